// A tenant's own providers through /admin/v1/providers, over real HTTP against
// an in-process gateway, on PostgreSQL and on embedded PGlite: a provider whose
// key lives only in the encrypted store answers a chat run (the official
// OpenAI SDK against the local fake upstream, which records the key it was
// sent), the key is never answered nor audited, `troupe secrets rotate` keeps
// it readable, a tenant admin never reaches another tenant's providers, and
// concurrent creations never take a tenant past its limit.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { loadConfig } from '../../gateway/config.js';
import { startGateway, type RunningGateway } from '../../gateway/gateway.js';
import { MAX_TENANT_PROVIDERS } from '../../gateway/provider_limits.js';
import { signToken } from '../../security/jwt.js';
import { OpenAIUpstream } from '../fakes/openai_upstream.js';
import { postgresUrl, requireService } from '../helpers/services.js';
import { STORE_CALLS } from '../helpers/store_calls.js';
import { adminCall as call, type Json } from './admin_http.js';
import { wsTurn } from './ws_turn.js';
import { dropSchemaOnTeardown } from '../store/backends.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const pgUrl = await postgresUrl();
const suffix = randomBytes(4).toString('hex');
const A = `a${suffix}`;
const B = `b${suffix}`;
const K1 = randomBytes(32).toString('hex');
const K2 = randomBytes(32).toString('hex');
/** The gateway's keyring: version 2 current, version 1 retired but still readable. */
const KEYRING = { TROUPE_ENCRYPTION_KEY: K2, TROUPE_ENCRYPTION_KEY_VERSION: '2', TROUPE_ENCRYPTION_KEYS_OLD: `1:${K1}` };
// Workers (the store worker too) read the keyring from the process environment; no key may come from the environment.
Object.assign(process.env, KEYRING);
delete process.env.OPENAI_API_KEY;

const token = (tenant: string, scopes: string[], user = 'u1') => signToken({ secret: SECRET, tenant, user, scopes, ttlSec: 600 });

async function gateway(t: Test, env: Record<string, string>): Promise<{ gw: RunningGateway; up: OpenAIUpstream }> {
  const up = new OpenAIUpstream({ defaultReply: { text: 'from the store provider' } });
  await up.start();
  const dir = mkdtempSync(join(tmpdir(), 'troupe-admin-providers-'));
  const file = join(dir, 'troupe.json');
  writeFileSync(file, JSON.stringify({
    agents: [{ id: 'echo', model: 'sim-1', provider: { kind: 'simulated', tokens: 2, latencyMs: 0 } }],
    providers: [{ id: 'sim', config: { kind: 'simulated', tokens: 2, latencyMs: 0 } }],
  }));
  const gw = await startGateway(loadConfig({ TROUPE_DATA_DIR: dir, TROUPE_PORT: '0', TROUPE_WORKERS: '1', TROUPE_JWT_SECRET: SECRET, ...KEYRING, ...env }, file));
  t.teardown(async () => { await gw.shutdown(); await up.close(); });
  return { gw, up };
}

function suite(t: Test, gw: RunningGateway, up: OpenAIUpstream): void {
  let adminA: string;
  let adminB: string;
  let chatA: string;
  const STORED = `sk-store-only-${randomBytes(6).toString('hex')}`;
  const ROTATED = `sk-rotated-${randomBytes(6).toString('hex')}`;
  t.before(async () => {
    adminA = await token(A, ['admin']);
    adminB = await token(B, ['admin'], 'u2');
    chatA = await token(A, ['chat'], 'chatter');
  });
  // The last event of a run, or the refusal of chat.send (so a failure says why).
  const chatOnce = async () => {
    const r = await wsTurn(gw.port, chatA, { message: 'hello', agent: 'bot' });
    return r.events.at(-1) ?? { refused: r.res };
  };
  const stored = (tenant: string, name: string) => gw.store!.call<unknown, Json[]>(STORE_CALLS, 'tenantQuery', {
    tenant, sql: 'SELECT name, key_version, ciphertext FROM secrets WHERE name = $1', params: [name],
  });

  t.test('a provider whose key is only in the store answers a run; GET never shows the key, nor does the audit', async (t) => {
    const put = await call(gw, 'PUT', '/providers/up', adminA, { config: { kind: 'openai', baseURL: `${up.url}/v1` }, limits: { concurrency: 4 }, apiKey: STORED });
    t.match(put, { status: 200, body: { id: 'up', config: { kind: 'openai', baseURL: `${up.url}/v1` }, limits: { concurrency: 4 }, hasApiKey: true } });
    t.notOk(put.text.includes(STORED), 'the answer holds no key');
    const list = await call(gw, 'GET', '/providers', adminA);
    t.match(list.body, { data: [{ id: 'up', hasApiKey: true }] });
    const one = await call(gw, 'GET', '/providers/up', adminA);
    t.notOk(list.text.includes(STORED) || one.text.includes(STORED) || /apiKey/.test(one.text), 'GET shows whether there is a key, never the key');
    t.match(await call(gw, 'PUT', '/agents/bot', adminA, { systemPrompt: 'Be brief.', chain: [{ providerId: 'up', model: 'gpt-store' }] }), { status: 200 });
    up.requests.length = 0;
    t.match(await chatOnce(), { event: 'chat.final', payload: { text: 'from the store provider', provider: 'up', model: 'gpt-store' } });
    t.equal(up.lastRequest.headers.authorization, `Bearer ${STORED}`, 'the upstream got the stored key');
    const sealed = await stored(A, 'provider:up');
    t.equal(sealed.length, 1);
    t.equal(sealed[0].key_version, 2, 'sealed under the current key version');
    t.notOk(String(sealed[0].ciphertext).includes(STORED), 'stored sealed');
    const audit = await call(gw, 'GET', '/audit?limit=1000', adminA);
    t.notOk(audit.text.includes(STORED), 'no audit row holds the key');
    const rows = audit.body.data as Json[];
    t.match(rows.find((r) => r.action === 'admin.provider.put'), { target: 'up', outcome: 'success', detail: { created: true, hasApiKey: true, changes: { config: [null, { kind: 'openai' }] } } });
    t.match(rows.find((r) => r.action === 'admin.secret.set'), { target: 'provider:up', outcome: 'success' });
    t.match(await call(gw, 'GET', '/secrets', adminA), { body: { data: [{ name: 'provider:up' }] } });
  });

  t.test('troupe secrets rotate re-seals the key and the provider still answers', async (t) => {
    // A key sealed under the retired version 1, as an older gateway would have stored it.
    const cli = (args: string[], env: Record<string, string>) => gw.store!.call<unknown, { code: number; out: string[]; err: string[] }>(STORE_CALLS, 'command', { args, config: gw.config, env });
    t.match(await cli(['secrets', 'set', '--tenant', A, '--name', 'provider:up', '--value', ROTATED], { TROUPE_ENCRYPTION_KEY: K1 }), { code: 0 });
    t.equal((await stored(A, 'provider:up'))[0].key_version, 1);
    // A change of the provider makes every worker read its key again: the old version still opens.
    t.match(await call(gw, 'PUT', '/providers/up', adminA, { config: { kind: 'openai', baseURL: `${up.url}/v1` }, limits: { concurrency: 3 } }), { status: 200, body: { hasApiKey: true } });
    t.match(await chatOnce(), { event: 'chat.final', payload: { text: 'from the store provider' } });
    t.equal(up.lastRequest.headers.authorization, `Bearer ${ROTATED}`);
    const rotated = await cli(['secrets', 'rotate', '--tenant', A], KEYRING);
    t.equal(rotated.code, 0, rotated.err.join('\n'));
    t.equal((await stored(A, 'provider:up'))[0].key_version, 2, 're-sealed under version 2');
    t.match(await call(gw, 'PUT', '/providers/up', adminA, { config: { kind: 'openai', baseURL: `${up.url}/v1` }, limits: { concurrency: 2 } }), { status: 200 });
    t.match(await chatOnce(), { event: 'chat.final', payload: { text: 'from the store provider' } });
    t.equal(up.lastRequest.headers.authorization, `Bearer ${ROTATED}`, 'the rotated key still opens and reaches the upstream');
  });

  t.test('bad input is a 400 naming the field; a provider in use cannot be deleted', async (t) => {
    const bad = async (method: string, path: string, body: unknown, param: string, reason?: string) => {
      t.match(await call(gw, method, path, adminA, body), { status: 400, body: { error: { code: 'INVALID_REQUEST', param, ...(reason === undefined ? {} : { reason }) } } }, `${method} ${path}`);
    };
    await bad('PUT', '/providers/sim', { config: { kind: 'simulated' } }, 'id', 'exists');
    await bad('PUT', '/providers/x', { config: { kind: 'openai', apiKey: 'sk-inline' } }, 'config.apiKey');
    await bad('PUT', '/providers/x', { config: { kind: 'nope' } }, 'config.kind');
    await bad('PUT', '/providers/x', { config: { kind: 'openai' }, limits: { concurrency: 0 } }, 'limits.concurrency');
    await bad('PUT', '/providers/x', { config: { kind: 'openai' }, extra: true }, 'extra');
    await bad('PUT', '/providers/bad%20id', { config: { kind: 'openai' } }, 'id');
    await bad('DELETE', '/providers/up', undefined, 'id', 'in_use');
    t.match(await call(gw, 'DELETE', '/providers/ghost', adminA), { status: 404, body: { error: { reason: 'no_provider' } } });
    t.equal((await call(gw, 'GET', '/providers/x', adminA)).status, 404, 'nothing was created');
  });

  t.test("a tenant admin never reaches another tenant's providers or their keys", async (t) => {
    for (const [method, path, body] of [
      ['GET', `/providers?tenant=${A}`], ['GET', `/providers/up?tenant=${A}`], ['PUT', `/providers/up?tenant=${A}`, { config: { kind: 'openai' } }], ['DELETE', `/providers/up?tenant=${A}`],
    ] as [string, string, unknown?][]) {
      const a = await call(gw, method, path, adminB, body);
      t.match(a, { status: 403, body: { error: { reason: 'other_tenant' } } }, `${method} ${path}`);
      t.notOk(a.text.includes(up.url), 'nothing of A in the answer');
    }
    t.equal((await call(gw, 'GET', '/providers/up', adminB)).status, 404, "A's provider id in B's own tenant is not found");
    t.match(await call(gw, 'PUT', '/agents/thief', adminB, { chain: [{ providerId: 'up', model: 'm' }] }), { status: 400, body: { error: { param: 'chain.0.providerId' } } }, "B's agents cannot name A's provider");
    t.same((await call(gw, 'GET', '/providers', adminB)).body, { data: [] });
  });

  t.test('null removes the key; deleting the provider removes its key too', async (t) => {
    t.match(await call(gw, 'PUT', '/providers/up', adminA, { config: { kind: 'openai', baseURL: `${up.url}/v1` }, apiKey: null }), { status: 200, body: { hasApiKey: false } });
    t.same(await stored(A, 'provider:up'), []);
    t.equal((await call(gw, 'DELETE', '/agents/bot', adminA)).status, 200);
    t.match(await call(gw, 'DELETE', '/providers/up', adminA), { status: 200, body: { id: 'up', deleted: true } });
    t.equal((await call(gw, 'GET', '/providers/up', adminA)).status, 404);
    t.match(await call(gw, 'PUT', '/providers/up2', adminA, { config: { kind: 'openai' }, apiKey: 'sk-gone' }), { status: 200 });
    t.equal((await call(gw, 'DELETE', '/providers/up2', adminA)).status, 200);
    t.same(await stored(A, 'provider:up2'), [], 'the sealed key went with its provider');
    const actions = ((await call(gw, 'GET', '/audit?limit=1000', adminA)).body.data as Json[]).map((r) => `${String(r.action)}:${String(r.outcome)}`);
    t.ok(actions.includes('admin.provider.delete:success') && actions.includes('admin.provider.delete:failure'));
  });

  t.test(`concurrent creations at ${MAX_TENANT_PROVIDERS - 1} providers: exactly one is stored, the rest are too_many, and no key is left sealed`, async (t) => {
    const spec = { config: { kind: 'openai', baseURL: `${up.url}/v1` } };
    const tooMany = { status: 400, body: { error: { code: 'INVALID_REQUEST', reason: 'too_many', param: 'id', message: `a tenant has at most ${MAX_TENANT_PROVIDERS} providers of its own` } } };
    const held = Array.from({ length: MAX_TENANT_PROVIDERS - 1 }, (_, i) => `held${i}`);
    for (const id of held) t.equal((await call(gw, 'PUT', `/providers/${id}`, adminB, spec)).status, 200, `PUT ${id}`);
    const racers = Array.from({ length: 8 }, (_, i) => `racer${i}`);
    const answers = await Promise.all(racers.map((id) => call(gw, 'PUT', `/providers/${id}`, adminB, { ...spec, apiKey: `sk-${id}` })));
    t.equal(answers.filter((a) => a.status === 200).length, 1, 'one creation wins');
    for (const a of answers.filter((x) => x.status !== 200)) t.match(a, tooMany);
    t.equal(((await call(gw, 'GET', '/providers?limit=1000', adminB)).body.data as Json[]).length, MAX_TENANT_PROVIDERS, 'the tenant holds exactly its limit');
    const winner = racers[answers.findIndex((a) => a.status === 200)];
    for (const id of racers) t.equal((await stored(B, `provider:${id}`)).length, id === winner ? 1 : 0, `key of ${id}`);
    // At the limit, a new provider with a key is refused and seals nothing; one that exists may still be replaced.
    t.match(await call(gw, 'PUT', '/providers/one-more', adminB, { ...spec, apiKey: 'sk-one-more' }), tooMany);
    t.same(await stored(B, 'provider:one-more'), [], 'no key sealed for a refused provider');
    t.match(await call(gw, 'PUT', `/providers/${winner}`, adminB, { ...spec, apiKey: 'sk-replaced' }), { status: 200, body: { hasApiKey: true } });
    for (const id of [...held, winner]) t.equal((await call(gw, 'DELETE', `/providers/${id}`, adminB)).status, 200, `DELETE ${id}`);
  });
}

t.test('on PostgreSQL', { skip: requireService('PostgreSQL', pgUrl) }, async (t) => {
  const schema = `troupe_admin_providers_${suffix}`;
  dropSchemaOnTeardown(t, pgUrl as string, schema);
  const { gw, up } = await gateway(t, { TROUPE_STORE: 'postgres', DATABASE_URL: pgUrl as string, TROUPE_DB_SCHEMA: schema });
  suite(t, gw, up);
});

t.test('on embedded PGlite', async (t) => {
  const { gw, up } = await gateway(t, { TROUPE_STORE: 'pglite' });
  suite(t, gw, up);
});
