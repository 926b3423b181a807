// Agents in the store through /admin/v1/agents, over real HTTP against an
// in-process gateway, on PostgreSQL and on embedded PGlite: a tenant starts
// with the config file's agents (once), an admin lists, reads, creates,
// replaces, patches and deletes them, every change is audited with a diff,
// bad definitions are refused naming the field, and a tenant admin never
// reaches another tenant's agents, whatever ids it forges.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { loadConfig } from '../../gateway/config.js';
import { startGateway, type RunningGateway } from '../../gateway/gateway.js';
import { signToken } from '../../security/jwt.js';
import { postgresUrl, requireService } from '../helpers/services.js';
import { STORE_CALLS } from '../helpers/store_calls.js';
import { OpenAIUpstream } from '../fakes/openai_upstream.js';
import { adminCall as call, type Json } from './admin_http.js';
import { wsTurn } from './ws_turn.js';
import { REDIS_URL, redisSkipReason } from '../store-redis/redis_available.js';
import { dropSchemaOnTeardown } from '../store/backends.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const pgUrl = await postgresUrl();
const suffix = randomBytes(4).toString('hex');
const A = `a${suffix}`;
const B = `b${suffix}`;
const OPS = `ops${suffix}`;

const token = (tenant: string, scopes: string[], user = 'u1') => signToken({ secret: SECRET, tenant, user, scopes, ttlSec: 600 });

async function auditOf(gw: RunningGateway, tenant: string): Promise<Json[]> {
  await gw.store!.flush(30_000);
  return gw.store!.call<unknown, Json[]>(STORE_CALLS, 'auditList', { tenant, limit: 1000 });
}

const SEEDED = {
  id: 'echo', description: 'from the file', systemPrompt: 'You echo.', model: 'sim-1', provider: { kind: 'simulated', tokens: 2, latencyMs: 0 },
};

async function gateway(t: Test, env: Record<string, string>): Promise<{ gw: RunningGateway; up: OpenAIUpstream }> {
  const up = new OpenAIUpstream();
  await up.start();
  const dir = mkdtempSync(join(tmpdir(), 'troupe-admin-agents-'));
  const file = join(dir, 'troupe.json');
  writeFileSync(file, JSON.stringify({
    agents: [
      SEEDED, { id: 'keyed', model: 'gpt-x', provider: { kind: 'openai', apiKey: 'sk-inline-file-key', baseURL: 'http://127.0.0.1:9/v1' } },
      { id: 'writer', systemPrompt: 'OLD PROMPT', model: 'gpt-old', provider: { kind: 'openai', apiKey: 'sk-fake', baseURL: `${up.url}/v1` } },
    ],
    providers: [{ id: 'sim', config: { kind: 'simulated', tokens: 3, latencyMs: 0 } }],
  }));
  const gw = await startGateway(loadConfig({ TROUPE_DATA_DIR: dir, TROUPE_PORT: '0', TROUPE_WORKERS: '1', TROUPE_JWT_SECRET: SECRET, ...env }, file));
  t.teardown(async () => { await gw.shutdown(); await up.close(); });
  return { gw, up };
}

function suite(t: Test, gw: RunningGateway, up: OpenAIUpstream): void {
  let adminA: string;
  let adminB: string;
  let platform: string;
  t.before(async () => {
    adminA = await token(A, ['admin']);
    adminB = await token(B, ['admin'], 'u2');
    platform = await token(OPS, ['platform'], 'root');
  });

  t.test("a tenant starts with the config file's agents; an inline provider key is never answered", async (t) => {
    const list = await call(gw, 'GET', '/agents', adminA);
    t.equal(list.status, 200);
    t.same((list.body.data as Json[]).map((a) => a.id), ['echo', 'keyed', 'writer']);
    t.match((list.body.data as Json[])[0], { ...SEEDED, createdAt: String, updatedAt: String });
    t.notOk(list.text.includes('sk-inline-file-key'), 'the inline key stays in the store');
    t.match(await call(gw, 'GET', '/agents/keyed', adminA), { status: 200, body: { id: 'keyed', provider: { kind: 'openai' } } });
    t.notOk((await call(gw, 'GET', '/agents/keyed', adminA)).text.includes('apiKey'));
    t.match(await call(gw, 'GET', '/agents/nope', adminA), { status: 404, body: { error: { code: 'NOT_FOUND', reason: 'no_agent' } } });
  });

  t.test('PUT creates and replaces, PATCH changes fields, DELETE removes; each audited with a diff', async (t) => {
    const def = { description: 'writes haiku', systemPrompt: 'Answer in haiku.', chain: [{ providerId: 'sim', model: 'sim-2' }], maxIterations: 4 };
    const put = await call(gw, 'PUT', '/agents/poet', adminA, def);
    t.match(put, { status: 200, body: { id: 'poet', ...def } });
    t.match(await call(gw, 'GET', '/agents/poet', adminA), { status: 200, body: def });
    const replaced = await call(gw, 'PUT', '/agents/poet', adminA, { model: 'sim-3', provider: { kind: 'simulated' } });
    t.equal(replaced.status, 200);
    t.notOk('systemPrompt' in replaced.body, 'PUT replaces the whole definition');
    const patched = await call(gw, 'PATCH', '/agents/poet', adminA, { systemPrompt: 'Be brief.', model: null, provider: null, chain: [{ providerId: 'sim', model: 'sim-4' }] });
    t.match(patched, { status: 200, body: { id: 'poet', systemPrompt: 'Be brief.', chain: [{ providerId: 'sim', model: 'sim-4' }] } });
    t.notOk('model' in patched.body, 'null removes a field');
    t.match(await call(gw, 'PATCH', '/agents/keyed', adminA, { description: 'kept its key' }), { status: 200, body: { description: 'kept its key' } });
    t.match(await call(gw, 'DELETE', '/agents/poet', adminA), { status: 200, body: { id: 'poet', deleted: true } });
    t.equal((await call(gw, 'GET', '/agents/poet', adminA)).status, 404);
    t.equal((await call(gw, 'DELETE', '/agents/poet', adminA)).status, 404);
    t.equal((await call(gw, 'PATCH', '/agents/poet', adminA, { description: 'x' })).status, 404);
    const rows = (await auditOf(gw, A)).filter((r) => String(r.action).startsWith('admin.agent.'));
    t.match(rows.map((r) => [r.action, r.outcome, r.target]), [
      ['admin.agent.put', 'success', 'poet'], ['admin.agent.put', 'success', 'poet'], ['admin.agent.put', 'success', 'poet'],
      ['admin.agent.put', 'success', 'keyed'], ['admin.agent.delete', 'success', 'poet'], ['admin.agent.delete', 'failure', 'poet'],
    ]);
    t.match(rows[0], { actor: 'u1', detail: { via: 'jwt', callerTenant: A, created: true, changes: { systemPrompt: [null, 'Answer in haiku.'], maxIterations: [null, 4] } } });
    t.match(rows[2], { detail: { created: false, changes: { systemPrompt: [null, 'Be brief.'], model: ['sim-3', null] } } });
    t.match(rows[3], { detail: { changes: { description: [null, 'kept its key'] } } });
    t.notOk(JSON.stringify(rows).includes('sk-inline-file-key'), 'no audit row holds the inline key');
    const kept = await gw.store!.call<unknown, Json[]>(STORE_CALLS, 'query', { sql: `SELECT config FROM agents WHERE tenant_id = $1 AND name = 'keyed'`, params: [A] });
    t.equal(((kept[0].config as Json).provider as Json).apiKey, 'sk-inline-file-key', 'PATCH kept the inline key in the store');
  });

  t.test('a seeded tenant is not seeded again: a deleted config agent stays deleted', async (t) => {
    t.equal((await call(gw, 'DELETE', '/agents/echo', adminA)).status, 200);
    t.equal(await gw.store!.admin(gw.config.dataDir).seedAgents(A, gw.config.agents), false, 'seeding again does nothing');
    t.notOk(((await call(gw, 'GET', '/agents', adminA)).body.data as Json[]).some((a) => a.id === 'echo'));
    t.equal((await call(gw, 'PUT', '/agents/echo', adminA, { model: 'sim-1', provider: { kind: 'simulated' } })).status, 200, 'put back by hand');
  });

  t.test('bad definitions are a 400 naming the field', async (t) => {
    const bad = async (method: string, path: string, body: unknown, param: string) => {
      t.match(await call(gw, method, path, adminA, body), { status: 400, body: { error: { code: 'INVALID_REQUEST', param } } }, `${method} ${path} ${JSON.stringify(body)}`);
    };
    await bad('PUT', '/agents/x', { model: 'm', provider: { kind: 'simulated' }, bogus: 1 }, 'bogus');
    await bad('PUT', '/agents/x', { model: 'm', provider: { kind: 'nope' } }, 'provider.kind');
    await bad('PUT', '/agents/x', { model: 'm', provider: { kind: 'openai', apiKey: 'sk-1' } }, 'provider.apiKey');
    await bad('PUT', '/agents/x', { id: 'x', model: 'm', provider: { kind: 'simulated' } }, 'id');
    await bad('PUT', '/agents/x', { description: 'no model' }, 'chain');
    await bad('PUT', '/agents/x', { chain: [{ providerId: 'ghost', model: 'm' }] }, 'chain.0.providerId');
    await bad('PUT', '/agents/x', { model: 'm', provider: { kind: 'simulated' }, maxIterations: 0 }, 'maxIterations');
    await bad('PUT', '/agents/x', 'not json', 'body');
    await bad('PATCH', '/agents/echo', { model: null }, 'chain');
    await bad('PATCH', '/agents/echo', { chain: [] }, 'chain');
    await bad('PUT', `/agents/${'x'.repeat(129)}`, { model: 'm', provider: { kind: 'simulated' } }, 'id');
    t.equal((await call(gw, 'GET', '/agents/x', adminA)).status, 404, 'nothing was created');
  });

  t.test("a tenant admin never reaches another tenant's agents, whatever ids it forges", async (t) => {
    t.equal((await call(gw, 'PUT', '/agents/secret-b', adminB, { systemPrompt: 'B only', model: 'm', provider: { kind: 'simulated' } })).status, 200);
    const forbidden = async (method: string, path: string, body?: unknown) => {
      const a = await call(gw, method, path, adminA, body);
      t.match(a, { status: 403, body: { error: { code: 'FORBIDDEN', reason: 'other_tenant' } } }, `${method} ${path}`);
      t.notOk(a.text.includes('B only'), 'nothing of B in the answer');
    };
    await forbidden('GET', `/agents?tenant=${B}`);
    await forbidden('GET', `/agents/secret-b?tenant=${B}`);
    await forbidden('PUT', `/agents/secret-b?tenant=${B}`, { model: 'm', provider: { kind: 'simulated' } });
    await forbidden('PATCH', `/agents/secret-b?tenant=${B}`, { systemPrompt: 'pwned' });
    await forbidden('DELETE', `/agents/secret-b?tenant=${B}`);
    // B's agent id in A's own tenant: not found, and B's agent is untouched.
    t.equal((await call(gw, 'GET', '/agents/secret-b', adminA)).status, 404);
    t.equal((await call(gw, 'PATCH', '/agents/secret-b', adminA, { systemPrompt: 'pwned' })).status, 404);
    t.equal((await call(gw, 'DELETE', '/agents/secret-b', adminA)).status, 404);
    t.match(await call(gw, 'PUT', '/agents/x', adminA, { tenant: B, model: 'm', provider: { kind: 'simulated' } }), { status: 400, body: { error: { param: 'tenant' } } });
    t.match(await call(gw, 'GET', '/agents/secret-b', adminB), { status: 200, body: { systemPrompt: 'B only' } });
    t.notOk(((await call(gw, 'GET', '/agents', adminA)).body.data as Json[]).some((a) => a.id === 'secret-b'));
    // Platform reaches B with ?tenant=; a chat-only caller reaches nothing.
    t.match(await call(gw, 'GET', `/agents/secret-b?tenant=${B}`, platform), { status: 200, body: { systemPrompt: 'B only' } });
    t.equal((await call(gw, 'GET', '/agents', await token(A, ['chat']))).status, 403);
    const refused = (await auditOf(gw, A)).filter((r) => r.outcome === 'denied' && r.target === `tenant:${B}`);
    t.same(refused.map((r) => r.action).sort(), ['admin.agent.delete', 'admin.agent.get', 'admin.agent.list', 'admin.agent.patch', 'admin.agent.put']);
    t.notOk(JSON.stringify(await auditOf(gw, B)).includes('"u1"'), "A's admin left nothing in B's chain");
  });

  t.test('a change reaches the next run (WS and HTTP) without a restart; a run already started finishes on the old definition', async (t) => {
    const chat = await token(A, ['chat'], 'chatter');
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    up.requests.length = 0;
    up.script({ text: 'old answer', holdAfterFirst: held }, { text: 'http answer' }, { text: 'ws answer' });
    // Run 1 starts on the old definition and is held in flight by the upstream.
    const first = wsTurn(gw.port, chat, { message: 'one', agent: 'writer', sessionKey: 's1' });
    for (let i = 0; i < 400 && up.requests.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    t.equal(up.requests.length, 1, 'run 1 reached the upstream');
    t.match(await call(gw, 'PATCH', '/agents/writer', adminA, { systemPrompt: 'NEW PROMPT', model: 'gpt-new' }), { status: 200 });
    // Run 2, over HTTP, while run 1 is still in flight.
    const http = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${chat}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'writer', messages: [{ role: 'user', content: 'two' }] }),
    });
    t.equal(http.status, 200);
    t.match(await http.json(), { choices: [{ message: { content: 'http answer' } }] });
    // Run 3, over WS, in the session whose agent run 1 still holds.
    const third = await wsTurn(gw.port, chat, { message: 'three', agent: 'writer', sessionKey: 's1' });
    t.match(third.events.at(-1), { event: 'chat.final', payload: { text: 'ws answer', model: 'gpt-new' } });
    release();
    const one = await first;
    t.match(one.events.at(-1), { event: 'chat.final', payload: { text: 'old answer', model: 'gpt-old' } }, 'run 1 finished on the old definition');
    const sent = up.requests.map((r) => r.body as { model: string; messages: { role: string; content: string }[] });
    t.same(sent.map((b) => [b.model, b.messages[0]]), [
      ['gpt-old', { role: 'system', content: 'OLD PROMPT' }],
      ['gpt-new', { role: 'system', content: 'NEW PROMPT' }],
      ['gpt-new', { role: 'system', content: 'NEW PROMPT' }],
    ]);
    // A deleted agent is gone for new runs; agents.list and /v1/models follow.
    t.equal((await call(gw, 'DELETE', '/agents/writer', adminA)).status, 200);
    const gone = await wsTurn(gw.port, chat, { message: 'four', agent: 'writer', sessionKey: 's1' });
    t.match(gone.res, { ok: false, error: { code: 'NOT_FOUND' } });
    const models = await (await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${chat}` } })).json() as { data: Json[] };
    t.notOk(models.data.some((m) => m.id === 'writer'));
    t.ok(models.data.some((m) => m.id === 'keyed'));
  });

  t.test('the OpenAPI document carries the agent schemas', async (t) => {
    const doc = await (await fetch(`${gw.url}/admin/v1/openapi.json`)).json() as Json;
    const ops = (doc.paths as Json)['/admin/v1/agents/{id}'] as Json;
    t.same(Object.keys(ops).sort(), ['delete', 'get', 'patch', 'put']);
    t.match(ops.put, {
      operationId: 'admin.agent.put', 'x-troupe-scope': 'admin',
      requestBody: { content: { 'application/json': { schema: { additionalProperties: false, properties: { systemPrompt: { type: 'string' }, chain: { type: 'array' } } } } } },
    });
  });
}

t.test('on PostgreSQL', { skip: requireService('PostgreSQL', pgUrl) }, async (t) => {
  const schema = `troupe_admin_agents_${suffix}`;
  dropSchemaOnTeardown(t, pgUrl as string, schema);
  const { gw, up } = await gateway(t, { TROUPE_STORE: 'postgres', DATABASE_URL: pgUrl as string, TROUPE_DB_SCHEMA: schema });
  suite(t, gw, up);
});

t.test('on embedded PGlite', async (t) => {
  const { gw, up } = await gateway(t, { TROUPE_STORE: 'pglite' });
  suite(t, gw, up);
});

t.test('two gateways on PostgreSQL and Redis: a change made through one reaches the other\'s next run', { skip: requireService('PostgreSQL', pgUrl) || (await redisSkipReason()) }, async (t) => {
  const schema = `troupe_admin_agents2_${suffix}`;
  dropSchemaOnTeardown(t, pgUrl as string, schema);
  const env = { TROUPE_STORE: 'postgres', DATABASE_URL: pgUrl as string, TROUPE_DB_SCHEMA: schema, REDIS_URL };
  const { gw: one } = await gateway(t, env);
  const { gw: two } = await gateway(t, env);
  const chat = await token(A, ['chat'], 'chatter');
  const turn = async () => (await wsTurn(two.port, chat, { message: 'hi', agent: 'echo', sessionKey: 'kept' })).events.at(-1);
  t.match(await turn(), { event: 'chat.final', payload: { model: 'sim-1' } }, 'gateway two holds the seeded definition');
  t.equal((await call(one, 'PATCH', '/agents/echo', await token(A, ['admin']), { model: 'sim-2' })).status, 200, 'changed through gateway one');
  // The notice crosses Redis asynchronously: gateway two's runs switch within a bounded number of turns.
  let last = await turn();
  for (let i = 0; i < 100 && (last?.payload as Json | undefined)?.model !== 'sim-2'; i++) {
    await new Promise((r) => setTimeout(r, 20));
    last = await turn();
  }
  t.match(last, { event: 'chat.final', payload: { model: 'sim-2' } }, 'gateway two runs the new definition, in the same live session');
});
