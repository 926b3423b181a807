// A tenant's MCP servers through /admin/v1/mcp-servers, over real HTTP against
// an in-process gateway, on PostgreSQL and on embedded PGlite: the config
// file's servers seed each tenant once; a server PUT through the API (the real
// server-everything over streamable HTTP on 127.0.0.1) serves a chat run's tool
// call at once, and a PATCH or DELETE reaches the next run without a restart.
// Headers' and env's values are sealed, never answered nor audited (a stdio
// server's env value reaches the server: its get-env tool shows it). Bad
// definitions are 400s naming the field, and a tenant admin never reaches
// another tenant's servers.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import t, { type Test } from 'tap';
import { loadConfig } from '../../gateway/config.js';
import { startGateway, type RunningGateway } from '../../gateway/gateway.js';
import { signToken } from '../../security/jwt.js';
import { MAX_SERVERS } from '../../tools/mcp/config.js';
import { OpenAIUpstream } from '../fakes/openai_upstream.js';
import { postgresUrl, requireService } from '../helpers/services.js';
import { STORE_CALLS } from '../helpers/store_calls.js';
import { everything, startEverythingHttp } from '../tools/mcp_servers.js';
import { adminCall as call, type Json } from './admin_http.js';
import { wsTurn } from './ws_turn.js';
import { dropSchemaOnTeardown } from '../store/backends.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const pgUrl = await postgresUrl();
const suffix = randomBytes(4).toString('hex');
const A = `a${suffix}`;
const B = `b${suffix}`;
const SEEDED = `seeded-${randomBytes(6).toString('hex')}`;
const PATCHED = `patched-${randomBytes(6).toString('hex')}`;
const BEARER = `Bearer mcp-${randomBytes(6).toString('hex')}`;
process.env.TROUPE_ENCRYPTION_KEY = randomBytes(32).toString('hex');

interface UpstreamBody { messages: { role: string; content?: unknown }[]; tools?: { function: { name: string } }[] }

const token = (tenant: string, scopes: string[], user = 'u1') => signToken({ secret: SECRET, tenant, user, scopes, ttlSec: 600 });

async function gateway(t: Test, env: Record<string, string>): Promise<{ gw: RunningGateway; up: OpenAIUpstream; mcpUrl: string }> {
  const up = new OpenAIUpstream();
  await up.start();
  const { url: mcpUrl } = await startEverythingHttp(t);
  const dir = mkdtempSync(join(tmpdir(), 'troupe-admin-mcp-'));
  const file = join(dir, 'troupe.json');
  writeFileSync(file, JSON.stringify({
    agents: [{ id: 'worker', model: 'fake-model', provider: { kind: 'openai', apiKey: 'sk-test', baseURL: `${up.url}/v1` } }],
    tools: {
      // Seeds every tenant once; its env value is sealed like a PUT's.
      mcpServers: { everything: { ...everything(), env: { TROUPE_VISIBLE: SEEDED } } },
      mcp: { healthIntervalMs: 0, http: { allowHosts: ['127.0.0.1'] } },
    },
  }));
  const gw = await startGateway(loadConfig({ TROUPE_DATA_DIR: dir, TROUPE_PORT: '0', TROUPE_WORKERS: '1', TROUPE_JWT_SECRET: SECRET, ...env }, file));
  t.teardown(async () => { await gw.shutdown(); await up.close(); });
  return { gw, up, mcpUrl };
}

function suite(t: Test, gw: RunningGateway, up: OpenAIUpstream, mcpUrl: string): void {
  let adminA: string;
  let adminB: string;
  let chatA: string;
  t.before(async () => {
    adminA = await token(A, ['admin']);
    adminB = await token(B, ['admin'], 'u2');
    chatA = await token(A, ['chat'], 'chatter');
  });
  const sealed = (tenant: string, name: string) => gw.store!.call<unknown, Json[]>(STORE_CALLS, 'tenantQuery', {
    tenant, sql: 'SELECT name, ciphertext FROM secrets WHERE name = $1', params: [name],
  });
  const body = (i: number) => up.requests[i].body as UpstreamBody;
  const offered = (i: number) => (body(i).tools ?? []).map((x) => x.function.name);
  /** What the model got back from its tool call, in upstream request `i`. */
  const toolResult = (i: number) => {
    const m = body(i).messages.filter((x) => x.role === 'tool').at(-1);
    return typeof m?.content === 'string' ? m.content : JSON.stringify(m?.content);
  };
  /** One turn where the scripted model calls `tool` once, through the OpenAI SDK (a stateless run) or the WebSocket (a session's). */
  const turnCalling = async (tool: string, args: Json, via: 'sdk' | 'ws'): Promise<string | undefined> => {
    up.requests.length = 0;
    up.script({ toolCalls: [{ id: 'c1', name: tool, arguments: args }] }, { text: 'done' });
    if (via === 'ws') {
      const r = await wsTurn(gw.port, chatA, { message: 'use the tool', agent: 'worker', sessionKey: 'mcp-session' });
      return String(r.events.at(-1)?.payload.text);
    }
    const client = new OpenAI({ apiKey: chatA, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const reply = await client.chat.completions.create({ model: 'worker', messages: [{ role: 'user', content: 'use the tool' }] });
    return reply.choices[0].message.content ?? undefined;
  };

  t.test("the config file's servers seed each tenant once, their env values sealed and never shown", async (t) => {
    const list = await call(gw, 'GET', '/mcp-servers', adminA);
    t.match(list, { status: 200, body: { data: [{ id: 'everything', command: process.execPath, envNames: ['TROUPE_VISIBLE'] }] } });
    t.notOk(list.text.includes(SEEDED), 'the value is not answered');
    const stored = await sealed(A, 'mcp:everything');
    t.equal(stored.length, 1, 'sealed in the secret store');
    t.notOk(String(stored[0].ciphertext).includes(SEEDED));
    // The seeded server's tool, with the sealed value opened on the worker that connects it.
    t.equal(await turnCalling('mcp_everything_get-env', {}, 'sdk'), 'done');
    t.match(toolResult(1), new RegExp(`"TROUPE_VISIBLE": "${SEEDED}"`), 'the stdio server got the sealed env value');
    // Deleted, it is not seeded back (another tenant keeps its own copy).
    t.match(await call(gw, 'DELETE', '/mcp-servers/everything', adminB), { status: 200, body: { id: 'everything', deleted: true } });
    t.same((await call(gw, 'GET', '/mcp-servers', adminB)).body, { data: [] });
    t.equal((await call(gw, 'GET', '/mcp-servers/everything', adminA)).status, 200, "A's copy is untouched");
  });

  t.test('a server PUT through the API serves the next run; PATCH and DELETE reach the run after', async (t) => {
    const put = await call(gw, 'PUT', '/mcp-servers/remote', adminA, { url: mcpUrl, headers: { authorization: BEARER } });
    t.match(put, { status: 200, body: { id: 'remote', url: mcpUrl, headerNames: ['authorization'] } });
    t.notOk(put.text.includes(BEARER), 'the header value is not answered');
    t.notOk((await call(gw, 'GET', '/mcp-servers/remote', adminA)).text.includes(BEARER));
    t.equal((await sealed(A, 'mcp:remote')).length, 1);

    t.equal(await turnCalling('mcp_remote_echo', { message: 'over-http' }, 'ws'), 'done');
    t.ok(offered(0).includes('mcp_remote_echo') && offered(0).includes('mcp_everything_echo'), 'both servers are offered');
    t.match(toolResult(1), /Echo: over-http/, "the API-made server answered the run's call");

    // PATCH the stdio server's env: the next run (same session) connects it with the new value.
    const patched = await call(gw, 'PATCH', '/mcp-servers/everything', adminA, { env: { TROUPE_VISIBLE: PATCHED } });
    t.match(patched, { status: 200, body: { id: 'everything', command: process.execPath, envNames: ['TROUPE_VISIBLE'] } });
    t.notOk(patched.text.includes(PATCHED));
    t.equal(await turnCalling('mcp_everything_get-env', {}, 'ws'), 'done');
    t.match(toolResult(1), new RegExp(`"TROUPE_VISIBLE": "${PATCHED}"`), 'the next run sees the patched value');
    t.equal(await turnCalling('mcp_everything_get-env', {}, 'sdk'), 'done');
    t.match(toolResult(1), new RegExp(`"TROUPE_VISIBLE": "${PATCHED}"`), 'a stateless run too');

    // DELETE: the next run is not offered the server's tools.
    t.match(await call(gw, 'DELETE', '/mcp-servers/remote', adminA), { status: 200, body: { id: 'remote', deleted: true } });
    t.same(await sealed(A, 'mcp:remote'), [], 'its sealed headers went with it');
    t.equal(await turnCalling('mcp_everything_echo', { message: 'still here' }, 'ws'), 'done');
    t.notOk(offered(0).some((n) => n.startsWith('mcp_remote_')), 'the deleted server is not offered');
    t.ok(offered(0).includes('mcp_everything_echo'));

    // PATCH to no env: null removes the values (and the secret).
    t.match(await call(gw, 'PATCH', '/mcp-servers/everything', adminA, { env: null }), { status: 200 });
    t.notOk('envNames' in (await call(gw, 'GET', '/mcp-servers/everything', adminA)).body);
    t.same(await sealed(A, 'mcp:everything'), []);
  });

  t.test('every change is audited with a diff of its non-secret fields, never a value', async (t) => {
    const audit = await call(gw, 'GET', '/audit?limit=1000', adminA);
    for (const value of [SEEDED, PATCHED, BEARER]) t.notOk(audit.text.includes(value), 'no audit row holds a value');
    const rows = audit.body.data as Json[];
    t.match(rows.find((r) => r.action === 'admin.mcp_server.put' && r.target === 'remote'), {
      outcome: 'success', detail: { created: true, via: 'jwt', changes: { url: [null, mcpUrl], headerNames: [null, ['authorization']] } },
    });
    t.match(rows.find((r) => r.action === 'admin.mcp_server.delete' && r.target === 'remote'), { outcome: 'success', detail: { changes: { url: [mcpUrl, null] } } });
    t.match(rows.find((r) => r.action === 'admin.secret.set' && r.target === 'mcp:remote'), { outcome: 'success' });
  });

  t.test('bad definitions are a 400 naming the field, with a stable reason', async (t) => {
    const bad = async (method: string, path: string, payload: unknown, param: string, reason: string) => {
      t.match(await call(gw, method, path, adminA, payload), { status: 400, body: { error: { code: 'INVALID_REQUEST', param, reason } } }, `${method} ${path} ${JSON.stringify(payload)}`);
    };
    await bad('PUT', '/mcp-servers/x', { command: 'sh', args: ['-c', 'id'] }, 'command', 'mcp_command_not_allowed');
    await bad('PUT', '/mcp-servers/x', { command: 'node;rm' }, 'command', 'mcp_shell_metacharacters');
    await bad('PUT', '/mcp-servers/x', { command: 'node', args: ['a && b'] }, 'args', 'mcp_shell_metacharacters');
    await bad('PUT', '/mcp-servers/x', { command: 'node', env: { NODE_OPTIONS: '--require x' } }, 'env', 'mcp_env_not_allowed');
    await bad('PUT', '/mcp-servers/x', { command: 'node', cwd: 'relative' }, 'cwd', 'bad_mcp_config');
    await bad('PUT', '/mcp-servers/x', { url: 'ftp://example.com/mcp' }, 'url', 'bad_mcp_config');
    await bad('PUT', '/mcp-servers/x', { url: 'http://169.254.169.254/latest' }, 'url', 'mcp_url_blocked');
    await bad('PUT', '/mcp-servers/x', { url: 'http://10.1.2.3/mcp' }, 'url', 'mcp_url_blocked');
    await bad('PUT', '/mcp-servers/x', { url: 'http://localhost:1/mcp' }, 'url', 'mcp_url_blocked');
    await bad('PUT', '/mcp-servers/x', { url: mcpUrl, command: 'node' }, 'url', 'invalid_field');
    await bad('PUT', '/mcp-servers/x', {}, 'command', 'invalid_field');
    await bad('PUT', '/mcp-servers/x', { command: 'node', headers: { a: 'b' } }, 'headers', 'invalid_field');
    await bad('PUT', '/mcp-servers/x', { url: mcpUrl, env: { A: 'b' } }, 'env', 'invalid_field');
    await bad('PUT', '/mcp-servers/x', { command: 'node', extra: 1 }, 'extra', 'unknown_field');
    await bad('PUT', '/mcp-servers/bad_id', { command: 'node' }, 'id', 'invalid_field');
    await bad('PATCH', '/mcp-servers/everything', { command: null }, 'command', 'invalid_field');
    await bad('PATCH', '/mcp-servers/everything', { command: 'sh' }, 'command', 'mcp_command_not_allowed');
    t.match(await call(gw, 'PATCH', '/mcp-servers/ghost', adminA, { command: 'node' }), { status: 404, body: { error: { code: 'NOT_FOUND', reason: 'no_mcp_server' } } });
    t.match(await call(gw, 'DELETE', '/mcp-servers/ghost', adminA), { status: 404, body: { error: { reason: 'no_mcp_server' } } });
    t.equal((await call(gw, 'GET', '/mcp-servers/x', adminA)).status, 404, 'nothing was created');
    t.match((await call(gw, 'GET', '/mcp-servers/everything', adminA)).body, { command: process.execPath }, 'a refused PATCH changed nothing');
  });

  t.test("a tenant admin never reaches another tenant's servers", async (t) => {
    t.match(await call(gw, 'PUT', '/mcp-servers/secretive', adminA, { url: mcpUrl, headers: { 'x-api-key': BEARER } }), { status: 200 });
    for (const [method, path, payload] of [
      ['GET', `/mcp-servers?tenant=${A}`], ['GET', `/mcp-servers/secretive?tenant=${A}`], ['PUT', `/mcp-servers/secretive?tenant=${A}`, { command: 'node' }],
      ['PATCH', `/mcp-servers/secretive?tenant=${A}`, { url: mcpUrl }], ['DELETE', `/mcp-servers/secretive?tenant=${A}`],
    ] as [string, string, unknown?][]) {
      const a = await call(gw, method, path, adminB, payload);
      t.match(a, { status: 403, body: { error: { code: 'FORBIDDEN', reason: 'other_tenant' } } }, `${method} ${path}`);
      t.notOk(a.text.includes(mcpUrl), 'nothing of A in the answer');
    }
    // A's id in B's own tenant is B's namespace: not found, and B's changes stay B's.
    t.equal((await call(gw, 'GET', '/mcp-servers/secretive', adminB)).status, 404);
    t.equal((await call(gw, 'DELETE', '/mcp-servers/secretive', adminB)).status, 404);
    t.equal((await call(gw, 'PATCH', '/mcp-servers/secretive', adminB, { url: mcpUrl })).status, 404);
    t.match((await call(gw, 'GET', '/mcp-servers/secretive', adminA)).body, { id: 'secretive', headerNames: ['x-api-key'] }, "A's server is untouched");
    t.same((await call(gw, 'GET', '/mcp-servers', adminB)).body, { data: [] });
    // Without the admin scope: FORBIDDEN.
    t.match(await call(gw, 'GET', '/mcp-servers', chatA), { status: 403, body: { error: { code: 'FORBIDDEN', reason: 'missing_scope' } } });
  });

  t.test(`a tenant holds at most ${MAX_SERVERS} servers; one that exists may still be replaced`, async (t) => {
    const ids = Array.from({ length: MAX_SERVERS }, (_, i) => `cap${i}`);
    for (const id of ids) t.equal((await call(gw, 'PUT', `/mcp-servers/${id}`, adminB, { url: mcpUrl })).status, 200, `PUT ${id}`);
    t.match(await call(gw, 'PUT', '/mcp-servers/one-more', adminB, { url: mcpUrl }), {
      status: 400, body: { error: { code: 'INVALID_REQUEST', reason: 'too_many', param: 'id', message: `a tenant has at most ${MAX_SERVERS} MCP servers` } },
    });
    t.equal((await call(gw, 'GET', '/mcp-servers/one-more', adminB)).status, 404, 'nothing was created');
    t.match(await call(gw, 'PUT', '/mcp-servers/cap0', adminB, { url: mcpUrl, headers: { authorization: BEARER } }), { status: 200, body: { id: 'cap0', headerNames: ['authorization'] } });
    t.match(await call(gw, 'PUT', '/mcp-servers/one-more', adminA, { url: mcpUrl }), { status: 200 }, "another tenant's limit is its own");
    for (const id of ids) t.equal((await call(gw, 'DELETE', `/mcp-servers/${id}`, adminB)).status, 200, `DELETE ${id}`);
    t.equal((await call(gw, 'DELETE', '/mcp-servers/one-more', adminA)).status, 200);
  });

  t.test(`concurrent creations at ${MAX_SERVERS - 1} servers: exactly one is stored, the rest are too_many, and no values are left sealed`, async (t) => {
    const held = Array.from({ length: MAX_SERVERS - 1 }, (_, i) => `held${i}`);
    for (const id of held) t.equal((await call(gw, 'PUT', `/mcp-servers/${id}`, adminB, { url: mcpUrl })).status, 200, `PUT ${id}`);
    const racers = Array.from({ length: 8 }, (_, i) => `racer${i}`);
    const answers = await Promise.all(racers.map((id) => call(gw, 'PUT', `/mcp-servers/${id}`, adminB, { url: mcpUrl, headers: { authorization: BEARER } })));
    t.equal(answers.filter((a) => a.status === 200).length, 1, 'one creation wins');
    for (const a of answers.filter((x) => x.status !== 200)) {
      t.match(a, { status: 400, body: { error: { code: 'INVALID_REQUEST', reason: 'too_many', param: 'id', message: `a tenant has at most ${MAX_SERVERS} MCP servers` } } });
    }
    const list = (await call(gw, 'GET', '/mcp-servers', adminB)).body.data as Json[];
    t.equal(list.length, MAX_SERVERS, 'the tenant holds exactly its limit');
    const winner = racers[answers.findIndex((a) => a.status === 200)];
    for (const id of racers) t.equal((await sealed(B, `mcp:${id}`)).length, id === winner ? 1 : 0, `values of ${id}`);
    for (const id of [...held, winner]) t.equal((await call(gw, 'DELETE', `/mcp-servers/${id}`, adminB)).status, 200, `DELETE ${id}`);
  });
}

t.test('on PostgreSQL', { skip: requireService('PostgreSQL', pgUrl) }, async (t) => {
  const schema = `troupe_admin_mcp_${suffix}`;
  dropSchemaOnTeardown(t, pgUrl as string, schema);
  const { gw, up, mcpUrl } = await gateway(t, { TROUPE_STORE: 'postgres', DATABASE_URL: pgUrl as string, TROUPE_DB_SCHEMA: schema });
  suite(t, gw, up, mcpUrl);
});

t.test('on embedded PGlite', async (t) => {
  const { gw, up, mcpUrl } = await gateway(t, { TROUPE_STORE: 'pglite' });
  suite(t, gw, up, mcpUrl);
});
