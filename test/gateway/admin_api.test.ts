// The admin HTTP API (/admin/v1) end to end, through real HTTP against an
// in-process gateway, on PostgreSQL and on embedded PGlite: the OpenAPI
// document matches the routes served, every route refuses a caller without its
// scope, bodies and queries are checked at the edge, every change lands in the
// tenant's audit chain, and a tenant admin never reaches another tenant.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import { loadConfig } from '../../gateway/config.js';
import { startGateway, type RunningGateway } from '../../gateway/gateway.js';
import { signToken } from '../../security/jwt.js';
import { ACCESS } from '../../transports/access.js';
import { CloseCode, KEY_RECHECK_MS } from '../../transports/ws_connection.js';
import { FakeTelegram, TG_SECRET, TG_TOKEN } from '../fakes/telegram_platform.js';
import { postgresUrl, requireService } from '../helpers/services.js';
import { STORE_CALLS } from '../helpers/store_calls.js';
import { dropSchemaOnTeardown } from '../store/backends.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
/** How often an idle WebSocket with an API key has it checked, here (30 s by default). */
const KEY_IDLE_RECHECK_MS = 5_000;
const pgUrl = await postgresUrl();
const suffix = randomBytes(4).toString('hex');
const A = `a${suffix}`;
const B = `b${suffix}`;
const OPS = `ops${suffix}`;
const TG_TOKEN_B = '987654321:BBFakeTelegramTokenForTestsOnly_abcdefgh';

type Json = Record<string, unknown>;
interface Answer { status: number; body: Json; text: string }

const token = (tenant: string, scopes: string[], user = 'u1') => signToken({ secret: SECRET, tenant, user, scopes, ttlSec: 600 });

async function call(gw: RunningGateway, method: string, path: string, bearer?: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${gw.url}/admin/v1${path}`, {
    method,
    headers: { ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }), 'content-type': 'application/json' },
    ...(body === undefined || method === 'GET' || method === 'DELETE' ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Json), text };
}

const err = (a: Answer) => a.body.error as Json;

async function auditOf(gw: RunningGateway, tenant: string): Promise<Json[]> {
  // On the store worker, the one owner of the database; queued audit rows are written first.
  await gw.store!.flush(30_000);
  return gw.store!.call<unknown, Json[]>(STORE_CALLS, 'auditList', { tenant, limit: 1000 });
}

/** A WebSocket connection authenticated on its upgrade: RPC calls in turn, and the code it was closed with. */
async function openWs(gw: RunningGateway, bearer: string): Promise<{ call(method: string, params: Json): Promise<Json>; closed: Promise<number>; close(): void }> {
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/ws`, { headers: { authorization: `Bearer ${bearer}` } });
  const waiting = new Map<string, (f: Json) => void>();
  ws.on('message', (d) => {
    const f = JSON.parse(String(d)) as Json;
    if (f.type === 'res') waiting.get(String(f.id))?.(f);
  });
  // A call still waiting when the socket closes gets { closed: code } instead of a reply.
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => {
    for (const answer of waiting.values()) answer({ closed: code });
    resolve(code);
  }));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  let id = 0;
  return {
    call: (method, params) => new Promise<Json>((resolve) => {
      const rid = String(++id);
      waiting.set(rid, resolve);
      ws.send(JSON.stringify({ type: 'req', id: rid, method, params }));
    }),
    closed,
    close: () => ws.close(),
  };
}

async function gateway(t: Test, env: Record<string, string>): Promise<RunningGateway> {
  const tgA = new FakeTelegram();
  const tgB = new FakeTelegram(TG_TOKEN_B);
  await tgA.start();
  await tgB.start();
  const dir = mkdtempSync(join(tmpdir(), 'troupe-admin-api-'));
  const file = join(dir, 'troupe.json');
  const channel = (id: string, tenant: string, tok: string, url: string) => ({
    id, platform: 'telegram', tenant, token: tok, webhookSecret: TG_SECRET, apiBase: url, access: { mode: 'pairing' },
  });
  writeFileSync(file, JSON.stringify({
    agents: [{ id: 'echo', model: 'sim-1', provider: { kind: 'simulated', tokens: 2, latencyMs: 0 } }],
    channels: [channel('tga', A, TG_TOKEN, tgA.url), channel('tgb', B, TG_TOKEN_B, tgB.url)],
  }));
  const gw = await startGateway(loadConfig({ TROUPE_DATA_DIR: dir, TROUPE_PORT: '0', TROUPE_WORKERS: '1', TROUPE_JWT_SECRET: SECRET, ...env }, file), { keyIdleRecheckMs: KEY_IDLE_RECHECK_MS });
  t.teardown(async () => { await gw.shutdown(); await tgA.stop(); await tgB.stop(); });
  return gw;
}

function suite(t: Test, gw: RunningGateway): void {
  let platform: string;
  let adminA: string;
  t.before(async () => {
    platform = await token(OPS, ['platform'], 'root');
    adminA = await token(A, ['admin']);
  });

  t.test('the OpenAPI document lists exactly the admin routes served, with the schemas they are checked by', async (t) => {
    const doc = await call(gw, 'GET', '/openapi.json');
    t.equal(doc.status, 200);
    t.equal(doc.body.openapi, '3.1.0');
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(doc.body.paths as Record<string, Json>)) {
      for (const verb of Object.keys(ops)) documented.add(`${verb.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
    }
    const served = new Set(gw.frontDoor.served.filter((k) => k.includes(' /admin/v1/')));
    t.same([...documented].sort(), [...served].sort(), 'every served admin route is documented, and nothing else');
    const listed = Object.keys(ACCESS).filter((k) => k.includes(' /admin/v1/'));
    t.same(listed.sort(), [...served].sort(), 'every admin entry of the access table is served');
    const create = ((doc.body.paths as Json)['/admin/v1/api-keys'] as Json).post as Json;
    t.match(create, {
      operationId: 'admin.key.create', 'x-troupe-scope': 'admin',
      requestBody: { content: { 'application/json': { schema: { additionalProperties: false, required: ['name'], properties: { name: { type: 'string' } } } } } },
      parameters: [{ name: 'tenant', in: 'query', required: false }],
    });
  });

  t.test('platform creates, lists and reads tenants; a tenant admin cannot', async (t) => {
    t.match(await call(gw, 'POST', '/tenants', platform, { id: A, name: 'Tenant A' }), { status: 201, body: { id: A, name: 'Tenant A' } });
    t.equal((await call(gw, 'POST', '/tenants', platform, { id: B, name: 'Tenant B' })).status, 201);
    t.match(await call(gw, 'POST', '/tenants', platform, { id: A, name: 'again' }), { status: 400, body: { error: { param: 'id', reason: 'exists' } } });
    const list = await call(gw, 'GET', '/tenants?limit=1000', platform);
    t.ok((list.body.data as Json[]).some((x) => x.id === A) && (list.body.data as Json[]).some((x) => x.id === B));
    t.match(await call(gw, 'GET', `/tenants/${A}`, platform), { status: 200, body: { id: A, name: 'Tenant A' } });
    t.equal((await call(gw, 'GET', '/tenants/nobody-here', platform)).status, 404);
    t.equal((await call(gw, 'GET', '/tenants', adminA)).status, 403);
    t.equal((await call(gw, 'POST', '/tenants', adminA, { id: 'mine', name: 'x' })).status, 403);
    t.match((await auditOf(gw, A)).find((r) => r.action === 'admin.tenant.create'), {
      actor: 'root', outcome: 'success', target: A, detail: { via: 'jwt', callerTenant: OPS, changes: { id: [null, A], name: [null, 'Tenant A'] } },
    });
  });

  t.test('each admin route: 401 without credentials, 403 without its scope (audited), past the edge with it', async (t) => {
    const chatOnly = await token(A, ['chat'], 'walker');
    for (const key of gw.frontDoor.served.filter((k) => k.includes(' /admin/v1/'))) {
      const rule = ACCESS[key];
      const [verb, pattern] = key.split(' ');
      const path = pattern.slice('/admin/v1'.length).replace(/:[a-z]+/g, 'x');
      if (rule === 'public') {
        t.equal((await call(gw, verb, path)).status, 200, `${key} is public`);
        continue;
      }
      if (rule === 'authenticated') {
        t.equal((await call(gw, verb, path, undefined, {})).status, 401, `${key} without credentials`);
        t.equal((await call(gw, verb, path, chatOnly, {})).status, 200, `${key} with any credential`);
        continue;
      }
      t.equal((await call(gw, verb, path, undefined, {})).status, 401, `${key} without credentials`);
      t.match(await call(gw, verb, path, chatOnly, {}), { status: 403, body: { error: { reason: 'missing_scope' } } }, `${key} without ${rule}`);
      const holder = await token(OPS, [rule], 'holder');
      const passed = await call(gw, verb, path, holder, {});
      t.not(passed.status, 401, `${key} with ${rule}`);
      t.not(err(passed)?.reason, 'missing_scope', `${key} with ${rule}`);
    }
    // Refusals are audited through the write-behind queue: wait for them (bounded).
    const expected = gw.frontDoor.served.filter((k) => k.includes(' /admin/v1/') && ACCESS[k] !== 'public' && ACCESS[k] !== 'authenticated').length;
    let denied = 0;
    for (let i = 0; i < 200 && denied < expected; i++) {
      denied = (await auditOf(gw, A)).filter((r) => r.action === 'access.denied' && r.actor === 'walker').length;
      if (denied < expected) await new Promise((r) => setTimeout(r, 25));
    }
    t.equal(denied, expected, 'every refusal is in the audit chain');
  });

  t.test('sign-in: an API key becomes a short-lived token of the same tenant and user, with at most its scopes, audited', async (t) => {
    const made = await call(gw, 'POST', '/api-keys', adminA, { name: 'sign-in', scopes: ['chat', 'admin'] });
    t.equal(made.status, 201);
    const key = made.body.key as string;
    const signed = await call(gw, 'POST', '/token', key, {});
    t.match(signed, { status: 200, body: { tokenType: 'Bearer', tenant: A, user: `key:${made.body.id as string}`, scopes: ['chat', 'admin'], expiresIn: 1800 } });
    const jwt = signed.body.token as string;
    t.match(jwt, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWT');
    t.notMatch(signed.text, key, 'the answer does not repeat the key');
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Json;
    t.match(claims, { tenant: A, sub: `key:${made.body.id as string}`, scope: 'chat admin', key_id: made.body.id }, 'usage and budgets stay the key\'s');
    t.equal((claims.exp as number) - (claims.iat as number), 1800, 'thirty minutes by default');
    t.equal(new Date(signed.body.expiresAt as string).getTime(), (claims.exp as number) * 1000, 'the answer says when it ends');
    t.equal((await call(gw, 'GET', '/agents', jwt)).status, 200, 'the token does what the key does');

    const narrowed = await call(gw, 'POST', '/token', key, { scopes: ['chat'], expiresIn: '10m' });
    t.match(narrowed, { status: 200, body: { scopes: ['chat'], expiresIn: 600 } });
    t.match(await call(gw, 'GET', '/agents', narrowed.body.token as string), { status: 403, body: { error: { reason: 'missing_scope' } } }, 'a narrowed token lost admin');
    t.match(await call(gw, 'POST', '/token', narrowed.body.token as string, { scopes: ['admin'] }),
      { status: 403, body: { error: { code: 'FORBIDDEN', reason: 'scope_escalation', param: 'scopes' } } }, 'and cannot get it back');
    t.match(await call(gw, 'POST', '/token', key, { scopes: ['platform'] }), { status: 403, body: { error: { reason: 'scope_escalation' } } }, 'nor a scope the key lacks');
    t.match(await call(gw, 'POST', '/token', await token(A, []), {}), { status: 200, body: { scopes: [] } }, 'a credential without scopes gets one without scopes (chat only)');
    t.match(await call(gw, 'POST', '/token', await token(A, []), { scopes: ['chat'] }), { status: 200, body: { scopes: ['chat'] } });
    t.match(await call(gw, 'POST', '/token', await token(A, []), { scopes: ['admin'] }), { status: 403 });
  });

  t.test('sign-in: the lifetime is capped at an hour and never outlives the credential', async (t) => {
    t.match(await call(gw, 'POST', '/token', adminA, { expiresIn: '61m' }), { status: 400, body: { error: { code: 'INVALID_REQUEST', param: 'expiresIn', reason: 'field_range' } } });
    t.match(await call(gw, 'POST', '/token', adminA, { expiresIn: '0s' }), { status: 400, body: { error: { param: 'expiresIn' } } });
    const long = await signToken({ secret: SECRET, tenant: A, user: 'u1', scopes: ['admin'], ttlSec: 7200 });
    t.match(await call(gw, 'POST', '/token', long, { expiresIn: '1h' }), { status: 200, body: { expiresIn: 3600 } }, 'an hour is the most');
    const short = await signToken({ secret: SECRET, tenant: A, user: 'u1', scopes: ['admin'], ttlSec: 120 });
    const renewed = await call(gw, 'POST', '/token', short, { expiresIn: '1h' });
    t.equal(renewed.status, 200);
    t.ok((renewed.body.expiresIn as number) <= 120, `a token ending in 120 s gets at most 120 s (${String(renewed.body.expiresIn)})`);
  });

  t.test('sign-in: expired, forged and revoked credentials and bad bodies are refused with stable codes', async (t) => {
    const expired = await signToken({ secret: SECRET, tenant: A, user: 'u1', scopes: ['admin'], ttlSec: 60, now: Date.now() - 3_600_000 });
    t.match(await call(gw, 'POST', '/token', expired, {}), { status: 401, body: { error: { code: 'UNAUTHORIZED' } } }, 'expired');
    const forged = await signToken({ secret: 'another-secret-that-is-long-enough-for-hs256', tenant: A, user: 'u1', scopes: ['admin'], ttlSec: 600 });
    t.match(await call(gw, 'POST', '/token', forged, {}), { status: 401, body: { error: { code: 'UNAUTHORIZED' } } }, 'signed with another secret');
    t.match(await call(gw, 'POST', '/token', 'trp_notakey_0000000000000000000000', {}), { status: 401 }, 'an unknown key');
    const made = await call(gw, 'POST', '/api-keys', adminA, { name: 'revoked-sign-in', scopes: ['chat'] });
    await call(gw, 'DELETE', `/api-keys/${made.body.id as string}`, adminA);
    t.match(await call(gw, 'POST', '/token', made.body.key as string, {}), { status: 401 }, 'a revoked key');
    t.match(await call(gw, 'POST', '/token', undefined, {}), { status: 401, body: { error: { reason: 'missing_token' } } });
    t.match(await call(gw, 'POST', '/token', adminA, 'not json'), { status: 400, body: { error: { reason: 'invalid_json' } } });
    t.match(await call(gw, 'POST', '/token', adminA, { scopes: [] }), { status: 400, body: { error: { param: 'scopes' } } });
    t.match(await call(gw, 'POST', '/token', adminA, { scopes: ['root'] }), { status: 400, body: { error: { param: 'scopes.0' } } });
    t.match(await call(gw, 'POST', '/token', adminA, { tenant: B }), { status: 400, body: { error: { param: 'tenant', reason: 'unknown_field' } } });
    t.match(await call(gw, 'POST', `/token?tenant=${B}`, adminA, {}), { status: 400, body: { error: { param: 'tenant' } } }, 'only the caller\'s own tenant');
  });

  t.test('sign-in: revoking the key ends the tokens issued for it, at once; other tokens and keys keep working', async (t) => {
    const made = await call(gw, 'POST', '/api-keys', adminA, { name: 'revoked-after-sign-in', scopes: ['chat', 'admin'] });
    const other = await call(gw, 'POST', '/api-keys', adminA, { name: 'kept-after-sign-in', scopes: ['chat', 'admin'] });
    const signed = await call(gw, 'POST', '/token', made.body.key as string, {});
    const kept = await call(gw, 'POST', '/token', other.body.key as string, {});
    t.equal((await call(gw, 'GET', '/agents', signed.body.token as string)).status, 200, 'the token works while its key is live');
    t.equal((await call(gw, 'DELETE', `/api-keys/${made.body.id as string}`, adminA)).status, 200);
    t.match(await call(gw, 'GET', '/agents', signed.body.token as string), { status: 401, body: { error: { code: 'UNAUTHORIZED' } } },
      'the same token, still within its 30 minutes, is refused once its key is revoked');
    t.match(await call(gw, 'POST', '/token', signed.body.token as string, {}), { status: 401 }, 'and cannot be renewed');
    t.equal((await call(gw, 'GET', '/agents', kept.body.token as string)).status, 200, 'a token of another key is untouched');
    t.equal((await call(gw, 'GET', '/agents', adminA)).status, 200, 'a JWT that names no key is not looked up');
    const rows = (await auditOf(gw, '_system')).filter((r) => r.action === 'auth.failure' && (r.detail as Json).reason === 'revoked');
    t.ok(rows.length >= 1, 'the refusal is audited with reason revoked');
  });

  t.test('WebSocket: revoking a key refuses and closes the connections it opened or signed in, within a second; others stay', async (t) => {
    const made = await call(gw, 'POST', '/api-keys', adminA, { name: 'ws-revoked', scopes: ['chat'] });
    const signed = await call(gw, 'POST', '/token', made.body.key as string, {});
    const byKey = await openWs(gw, made.body.key as string);
    const byToken = await openWs(gw, signed.body.token as string);
    const plain = await openWs(gw, await token(A, ['chat']));
    for (const c of [byKey, byToken, plain]) {
      t.match(await c.call('chat.send', { message: 'hello', sessionKey: 'ws-revoke' }), { ok: true }, 'each works while the key is live');
    }
    t.equal((await call(gw, 'DELETE', `/api-keys/${made.body.id as string}`, adminA)).status, 200);
    // The next request past the recheck interval finds the key revoked.
    await new Promise((r) => setTimeout(r, KEY_RECHECK_MS + 100));
    // `connect` (which a connection authenticated on its upgrade need not send) is refused as any request is.
    for (const [name, c, method, params] of [
      ['the key', byKey, 'connect', {}], ['a token signed in with it', byToken, 'chat.send', { message: 'still there?', sessionKey: 'ws-revoke' }],
    ] as const) {
      t.match(await c.call(method, params), { ok: false, error: { code: 'UNAUTHORIZED', reason: 'revoked' } }, `a connection opened with ${name} is refused its ${method}`);
      const closedWith = await Promise.race([c.closed, new Promise<number>((r) => setTimeout(() => r(-1), 5_000))]);
      t.equal(closedWith, CloseCode.REVOKED, `and closed with ${CloseCode.REVOKED}`);
    }
    t.match(await plain.call('chat.send', { message: 'still here', sessionKey: 'ws-revoke' }), { ok: true }, 'a connection with a key-less JWT keeps working');
    plain.close();
    const rows = (await auditOf(gw, '_system')).filter((r) => r.action === 'auth.failure' && (r.detail as Json).keyId === made.body.id);
    t.same(rows.map((r) => (r.detail as Json).via).sort(), ['api_key', 'jwt'], 'each refusal is audited once, naming the key');
    t.match(rows[0]?.detail, { reason: 'revoked', tenant: A });
  });

  t.test('WebSocket: a connection with a key that only listens is closed by the periodic check once the key is revoked', async (t) => {
    const made = await call(gw, 'POST', '/api-keys', adminA, { name: 'ws-listener', scopes: ['chat'] });
    const listener = await openWs(gw, made.body.key as string);
    t.equal((await call(gw, 'DELETE', `/api-keys/${made.body.id as string}`, adminA)).status, 200);
    const closedWith = await Promise.race([listener.closed, new Promise<number>((r) => setTimeout(() => r(-1), KEY_IDLE_RECHECK_MS * 2 + 5_000))]);
    t.equal(closedWith, CloseCode.REVOKED, `closed with ${CloseCode.REVOKED} without sending anything`);
  });

  t.test('sign-in: every token issued and every escalation refused is in the tenant\'s audit chain', async (t) => {
    const made = await call(gw, 'POST', '/api-keys', adminA, { name: 'audited-sign-in', scopes: ['chat'] });
    t.equal((await call(gw, 'POST', '/token', made.body.key as string, {})).status, 200);
    t.equal((await call(gw, 'POST', '/token', made.body.key as string, { scopes: ['admin'] })).status, 403);
    const rows = (await auditOf(gw, A)).filter((r) => r.action === 'admin.token.issue' && (r.detail as Json).keyId === made.body.id);
    t.match(rows, [
      { actor: `key:${made.body.id as string}`, outcome: 'success', detail: { via: 'api_key', callerTenant: A, scopes: ['chat'], ttlSec: 1800 } },
      { outcome: 'denied', detail: { reason: 'scope_escalation', asked: ['admin'], scopes: ['chat'] } },
    ]);
    t.notMatch(JSON.stringify(rows), /eyJ|trp_/, 'neither the token nor the key is in the chain');
  });

  t.test('bad input is a 400 INVALID_REQUEST naming the field', async (t) => {
    const bad = async (method: string, path: string, body: unknown, param: string) => {
      const a = await call(gw, method, path, adminA, body);
      t.match(a, { status: 400, body: { error: { code: 'INVALID_REQUEST', param } } }, `${method} ${path} ${JSON.stringify(body)} names ${param}`);
    };
    await bad('POST', '/api-keys', {}, 'name');
    await bad('POST', '/api-keys', { name: 5 }, 'name');
    await bad('POST', '/api-keys', { name: 'k', extra: 1 }, 'extra');
    await bad('POST', '/api-keys', { name: 'k', scopes: ['root'] }, 'scopes.0');
    await bad('POST', '/api-keys', { name: 'k', expiresIn: 'soon' }, 'expiresIn');
    await bad('POST', '/api-keys', { name: 'k', expiresIn: '999d' }, 'expiresIn');
    await bad('POST', '/api-keys', 'not json', 'body');
    await bad('POST', '/api-keys', '[1]', 'body');
    await bad('GET', '/audit?limit=0', undefined, 'limit');
    await bad('GET', '/audit?limit=ten', undefined, 'limit');
    await bad('GET', '/audit?bogus=1', undefined, 'bogus');
    await bad('GET', '/audit?limit=1&limit=2', undefined, 'limit');
    await bad('PUT', '/secrets/bad%20name', { value: 'v' }, 'name');
    await bad('PUT', '/secrets/ok', { value: '' }, 'value');
    await bad('GET', '/api-keys?tenant=no%20spaces', undefined, 'tenant');
  });

  t.test('API keys: shown once, listed without hashes, revoked and refused at once, audited with a diff', async (t) => {
    const created = await call(gw, 'POST', '/api-keys', adminA, { name: 'ci', scopes: ['admin'], expiresIn: '1d' });
    t.equal(created.status, 201);
    const key = created.body.key as string;
    const id = created.body.id as string;
    t.match(created.body, { name: 'ci', scopes: ['admin'], revokedAt: null, userId: null });
    t.ok(key.length > 20 && key.includes(id), 'the key itself, once');
    const listed = await call(gw, 'GET', '/api-keys', key);
    t.equal(listed.status, 200, 'the new key works');
    t.ok((listed.body.data as Json[]).some((k) => k.id === id));
    t.notOk(listed.text.includes(key), 'the key is never listed');
    t.notOk(/hash/i.test(listed.text), 'nor its hash');
    t.match(await call(gw, 'DELETE', `/api-keys/${id}`, adminA), { status: 200, body: { id } });
    t.equal((await call(gw, 'GET', '/api-keys', key)).status, 401, 'the revoked key is refused on the next call');
    t.equal((await call(gw, 'DELETE', `/api-keys/${id}`, adminA)).status, 200, 'revoking again is harmless');
    t.match(await call(gw, 'POST', '/api-keys', adminA, { name: 'up', scopes: ['platform'] }), { status: 403, body: { error: { reason: 'scope_escalation', param: 'scopes' } } });
    t.equal((await call(gw, 'POST', '/api-keys', adminA, { name: 'chatbot', scopes: ['chat'] })).status, 201, 'an admin mints chat keys');
    const rows = await auditOf(gw, A);
    t.match(rows.find((r) => r.action === 'admin.key.create' && r.target === id), {
      actor: 'u1', outcome: 'success', detail: { via: 'jwt', changes: { name: [null, 'ci'], scopes: [null, ['admin']] } },
    });
    t.match(rows.find((r) => r.action === 'admin.key.revoke' && r.target === id), { actor: 'u1', detail: { changes: { revokedAt: [null, String] } } });
    t.notOk(JSON.stringify(rows).includes(key), 'the key is in no audit row');
  });

  t.test('a tenant admin never reaches another tenant: forged ids get 403 or 404 and leak nothing', async (t) => {
    const inB = await call(gw, 'POST', `/api-keys?tenant=${B}`, platform, { name: 'b-key', scopes: ['admin'] });
    t.equal(inB.status, 201, 'platform acts on B with ?tenant=');
    const bId = inB.body.id as string;
    const bKey = inB.body.key as string;
    const forbidden = async (method: string, path: string, body?: unknown) => {
      const a = await call(gw, method, path, adminA, body);
      t.match(a, { status: 403, body: { error: { code: 'FORBIDDEN', reason: 'other_tenant' } } }, `${method} ${path}`);
      t.notOk(a.text.includes(bId) || a.text.includes('b-key'), 'nothing of B in the answer');
    };
    await forbidden('GET', `/api-keys?tenant=${B}`);
    await forbidden('POST', `/api-keys?tenant=${B}`, { name: 'x' });
    await forbidden('DELETE', `/api-keys/${bId}?tenant=${B}`);
    await forbidden('GET', `/secrets?tenant=${B}`);
    await forbidden('PUT', `/secrets/x?tenant=${B}`, { value: 'v' });
    await forbidden('POST', `/secrets/rotate?tenant=${B}`);
    await forbidden('GET', `/audit?tenant=${B}`);
    await forbidden('GET', `/audit/verify?tenant=${B}`);
    await forbidden('GET', `/channels?tenant=${B}`);
    await forbidden('POST', `/channels/tgb/pairings/approve?tenant=${B}`, { code: 'ABCD' });
    await forbidden('GET', '/api-keys?tenant=no-such-tenant');
    // A forged id in the path: RLS hides B's key, so it is not found, and stays live.
    t.match(await call(gw, 'DELETE', `/api-keys/${bId}`, adminA), { status: 404, body: { error: { code: 'NOT_FOUND' } } });
    t.equal((await call(gw, 'GET', '/api-keys', bKey)).status, 200, "B's key still works");
    // A forged tenant in a body is an unknown field, and nothing is created anywhere.
    t.match(await call(gw, 'POST', '/api-keys', adminA, { name: 'sneaky', tenant: B }), { status: 400, body: { error: { param: 'tenant' } } });
    const keysB = await call(gw, 'GET', `/api-keys?tenant=${B}`, platform);
    t.same((keysB.body.data as Json[]).map((k) => k.name), ['b-key']);
    // B's channel through A's own tenant: not found, as a channel that does not exist.
    t.match(await call(gw, 'POST', '/channels/tgb/pairings/approve', adminA, { code: 'ABCD' }), { status: 404, body: { error: { reason: 'no_channel' } } });
    t.match(await call(gw, 'POST', '/channels/tgb/pairings/deny', adminA, { userId: '1' }), { status: 404, body: { error: { reason: 'no_channel' } } });
    t.equal((await call(gw, 'GET', '/api-keys?tenant=ghost-tenant', platform)).status, 404, 'platform: an unknown tenant is not found');
    const refused = (await auditOf(gw, A)).filter((r) => r.outcome === 'denied' && r.target === `tenant:${B}`);
    t.ok(refused.some((r) => r.action === 'admin.key.list') && refused.some((r) => r.action === 'admin.secret.set'), 'the refusals are in A\'s chain');
    t.notOk(JSON.stringify(await auditOf(gw, B)).includes('"u1"'), "A's admin left nothing in B's chain");
  });

  t.test('secrets: set and rotated, never read back, never audited in clear', async (t) => {
    const value = `sk-${randomBytes(12).toString('hex')}`;
    t.match(await call(gw, 'PUT', '/secrets/openai', adminA, { value }), { status: 200, body: { name: 'openai', created: true, keyVersion: 1 } });
    t.match(await call(gw, 'PUT', '/secrets/openai', adminA, { value: `${value}2` }), { status: 200, body: { created: false } });
    const list = await call(gw, 'GET', '/secrets', adminA);
    t.same(list.body, { data: [{ name: 'openai' }] });
    t.match(await call(gw, 'POST', '/secrets/rotate', adminA), { status: 200, body: { keyVersion: 1, reencrypted: 0, current: 1, failed: [] } });
    const audit = await call(gw, 'GET', '/audit?limit=1000', adminA);
    t.notOk(audit.text.includes(value), 'the value is in no audit row');
    t.match((audit.body.data as Json[]).filter((r) => r.action === 'admin.secret.set' && r.outcome === 'success'), [
      { target: 'openai', detail: { created: true, changes: { keyVersion: [null, 1] } } }, { target: 'openai', detail: { created: false } },
    ]);
    const stored = await gw.store!.sealedSecret(A, 'openai');
    t.ok(stored !== null && !Buffer.from(stored.ciphertext).includes(value), 'stored sealed');
  });

  t.test('audit: paged in chain order, and the chain verifies', async (t) => {
    const first = await call(gw, 'GET', '/audit?limit=2', adminA);
    t.equal((first.body.data as Json[]).length, 2);
    t.same((first.body.data as Json[]).map((r) => r.seq), [1, 2]);
    t.equal(first.body.next, 2);
    const second = await call(gw, 'GET', `/audit?limit=2&after=${first.body.next as number}`, adminA);
    t.same((second.body.data as Json[]).map((r) => r.seq), [3, 4]);
    t.equal((second.body.data as Json[])[0].prevHash, (first.body.data as Json[])[1].hash, 'the pages link up');
    const all = await call(gw, 'GET', '/audit?limit=1000', adminA);
    t.equal(all.body.next, null);
    const verdict = await call(gw, 'GET', '/audit/verify', adminA);
    t.match(verdict.body, { ok: true });
    t.ok((verdict.body.checked as number) >= (all.body.data as Json[]).length);
    t.match(await call(gw, 'GET', `/audit/verify?tenant=${A}`, platform), { status: 200, body: { ok: true } });
  });

  t.test("channels: the tenant's own channels and pairings; approve and deny, audited", async (t) => {
    await gw.store!.withTenant(A, async (s) => {
      await s.channelPairings.request('tga', '111', 'ABCD1234', 'Ann');
      await s.channelPairings.request('tga', '222', 'WXYZ9876', 'Bob');
    });
    const list = await call(gw, 'GET', '/channels', adminA);
    t.match(list.body, { data: [{ id: 'tga', platform: 'telegram', access: 'pairing', pairings: [
      { userId: '111', userName: 'Ann', status: 'pending', code: 'ABCD1234' }, { userId: '222', status: 'pending' },
    ] }] });
    t.equal((list.body.data as Json[]).length, 1, "only A's channel");
    t.match(await call(gw, 'POST', '/channels/tga/pairings/approve', adminA, { code: 'abcd1234' }), { status: 200, body: { userId: '111', status: 'approved' } });
    t.equal((await call(gw, 'POST', '/channels/tga/pairings/approve', adminA, { code: 'ABCD1234' })).status, 404, 'a code works once');
    t.match(await call(gw, 'POST', '/channels/tga/pairings/deny', adminA, { userId: '222' }), { status: 200, body: { status: 'denied' } });
    t.equal((await call(gw, 'POST', '/channels/tga/pairings/deny', adminA, { userId: '222' })).status, 404);
    t.ok(await gw.store!.withTenant(A, (s) => s.channelPairings.isApproved('tga', '111')));
    const rows = (await auditOf(gw, A)).filter((r) => String(r.action).startsWith('admin.pairing.') && r.outcome !== 'denied');
    t.match(rows.map((r) => [r.action, r.outcome, r.target]), [
      ['admin.pairing.approve', 'success', 'tga:111'], ['admin.pairing.approve', 'failure', 'tga:?'],
      ['admin.pairing.deny', 'success', 'tga:222'], ['admin.pairing.deny', 'failure', 'tga:222'],
    ]);
    t.match(await call(gw, 'GET', `/channels?tenant=${B}`, platform), { status: 200, body: { data: [{ id: 'tgb' }] } });
  });
}

t.test('on PostgreSQL', { skip: requireService('PostgreSQL', pgUrl) }, async (t) => {
  const schema = `troupe_admin_api_${suffix}`;
  dropSchemaOnTeardown(t, pgUrl as string, schema);
  const gw = await gateway(t, { TROUPE_STORE: 'postgres', DATABASE_URL: pgUrl as string, TROUPE_DB_SCHEMA: schema });
  suite(t, gw);
});

t.test('on embedded PGlite', async (t) => {
  const gw = await gateway(t, { TROUPE_STORE: 'pglite' });
  suite(t, gw);
});
