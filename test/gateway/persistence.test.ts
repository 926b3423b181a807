import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import { wsSteps, type Frame } from '../helpers/gateway_io.js';
import { loadConfig, type GatewayConfig } from '../../gateway/config.js';
import { startGateway, type RunningGateway } from '../../gateway/gateway.js';
import { generateApiKey } from '../../security/api_keys.js';
import { signToken } from '../../security/jwt.js';
import { hashApiKey } from '../../store/index.js';
import { postgresUrl, requireService } from '../helpers/services.js';
import { STORE_CALLS } from '../helpers/store_calls.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';

function call(gw: RunningGateway, credential: string, steps: [string, Record<string, unknown>][]): Promise<Frame[]> {
  return wsSteps(gw.port, steps, credential, 20_000);
}

function configFor(dataDir: string, env: Record<string, string>): GatewayConfig {
  return {
    ...loadConfig({ TROUPE_DATA_DIR: dataDir, TROUPE_PORT: '0', TROUPE_WORKERS: '1', TROUPE_JWT_SECRET: SECRET, ...env }),
    agents: [
      { id: 'fast', model: 'sim', provider: { kind: 'simulated', tokens: 8 } },
      // Calls datetime once, then the iteration limit ends the run.
      { id: 'tooly', model: 'sim', maxIterations: 1, provider: { kind: 'simulated', tokens: 2, toolCalls: [{ name: 'datetime', arguments: {} }] } },
      { id: 'memo', model: 'sim', maxIterations: 1, provider: { kind: 'simulated', tokens: 2, toolCalls: [{ name: 'memory_save', arguments: { text: 'the launch code is cobalt blue' } }] } },
    ],
  };
}

async function suite(t: Test, env: Record<string, string>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'troupe-persist-'));
  const tenant = `t${randomBytes(4).toString('hex')}`;
  const token = await signToken({ secret: SECRET, tenant, user: 'alice', ttlSec: 600 });

  t.test('history survives a graceful restart: the session rehydrates from the store', async (t) => {
    const first = await startGateway(configFor(dataDir, env));
    const sent = await call(first, token, [['connect', {}], ['chat.send', { message: 'remember me', sessionKey: 'p1' }]]);
    t.equal(sent[1].ok, true);
    await first.shutdown();
    const second = await startGateway(configFor(dataDir, env));
    t.teardown(() => second.shutdown());
    const [, history] = await call(second, token, [['connect', {}], ['chat.history', { sessionKey: 'p1' }]]);
    const messages = history.payload?.messages as { role: string; content: string }[];
    t.equal(messages.length, 2);
    t.match(messages[0], { role: 'user', content: 'remember me' });
    t.equal(messages[1].role, 'assistant');
    t.equal(messages[1].content.split(' ').length, 8);
  });

  t.test('a passivated session comes back with its history', async (t) => {
    const gw = await startGateway(configFor(dataDir, { ...env, TROUPE_SESSION_IDLE_MS: '1000' }));
    t.teardown(() => gw.shutdown());
    await call(gw, token, [['connect', {}], ['chat.send', { message: 'before sleep', sessionKey: 'p2' }]]);
    await new Promise((r) => setTimeout(r, 2_000));
    const [, listed, history] = await call(gw, token, [['connect', {}], ['sessions.list', {}], ['chat.history', { sessionKey: 'p2' }]]);
    t.notOk((listed.payload?.sessions as { sessionKey: string }[]).some((s) => s.sessionKey === 'p2'), 'it had passivated');
    t.match((history.payload?.messages as unknown[])[0], { content: 'before sleep' });
  });

  t.test('memory_save writes to the tenant\'s vector memory in the store, searchable by meaning and text', async (t) => {
    const gw = await startGateway(configFor(dataDir, env));
    t.teardown(() => gw.shutdown());
    await call(gw, token, [['connect', {}], ['chat.send', { message: 'remember the code', agent: 'memo', sessionKey: 'p5' }]]);
    // Saved in the agent's scope by default: the agent id travelled with the tool call.
    const hits = await gw.store!.call<unknown, unknown[]>(STORE_CALLS, 'memorySearch', { tenant, query: 'launch code colour', namespaces: ['agent:memo'], limit: 3 });
    t.match(hits[0], { content: 'the launch code is cobalt blue', namespace: 'agent:memo' });
    const elsewhere = await gw.store!.call(STORE_CALLS, 'memorySearch', { tenant: '_system', query: 'launch code', namespaces: ['agent:memo'], limit: 3 });
    t.same(elsewhere, [], 'other tenants do not see it');
  });

  t.test('chat turns, auth failures and API-key use leave a verifiable audit trail', async (t) => {
    const gw = await startGateway(configFor(dataDir, env));
    t.teardown(() => gw.shutdown());
    const store = gw.store!;
    const key = generateApiKey();
    await store.call(STORE_CALLS, 'createApiKey', { tenant, name: 'ci', keyHash: hashApiKey(key.key), scopes: ['chat'], expiresAt: Date.now() + 3_600_000 });
    const viaKey = await call(gw, key.key, [['connect', {}], ['chat.send', { message: 'by key', sessionKey: 'p3' }]]);
    t.match(viaKey[0], { ok: true, payload: { tenant } }, 'an API key authenticates');
    const secretKey = 'sk-abcdefghijklmnopqrstuvwx';
    await call(gw, token, [['connect', {}], ['chat.send', { message: 'what time is it', agent: 'tooly', sessionKey: `s-${secretKey}` }]]);
    const bad = new WebSocket(`ws://127.0.0.1:${gw.port}/ws?token=not-a-valid-token`);
    await new Promise((r) => { bad.once('close', r); bad.once('error', r); bad.once('unexpected-response', r); });
    await store.flush(10_000);
    const rows = await store.call<unknown, { action: string; target?: string; sourceIp?: string }[]>(STORE_CALLS, 'auditList', { tenant, limit: 100 });
    const actions = rows.map((r) => r.action);
    t.ok(actions.includes('apikey.use'), 'key use is audited');
    t.ok(actions.includes('chat.turn'), 'the chat turn is audited');
    t.match(rows.find((r) => r.action === 'chat.turn'), { sourceIp: /127\.0\.0\.1|::1|ffff/ }, 'with the client\'s address');
    t.match(rows.find((r) => r.action === 'apikey.use'), { sourceIp: /127\.0\.0\.1|::1|ffff/ });
    const toolRow = rows.find((r) => r.action === 'tool.call' && r.target === 'datetime');
    t.match(toolRow, { actor: 'agent:tooly', target: 'datetime', outcome: 'success' }, 'the tool call is audited');
    t.notMatch(JSON.stringify(rows), new RegExp(secretKey), 'a credential never reaches the audit log');
    const system = await store.call<unknown, { action: string; sourceIp?: string }[]>(STORE_CALLS, 'auditList', { tenant: '_system', limit: 1000 });
    t.ok(system.some((r) => r.action === 'auth.failure' && typeof r.sourceIp === 'string' && r.sourceIp.length > 0), 'the failed authentication is audited with its source address');
    t.match(await store.call(STORE_CALLS, 'verifyAuditChain', { tenant }), { ok: true });
    const hash = hashApiKey(key.key);
    const stored = await store.call<unknown, unknown[]>(STORE_CALLS, 'query', { sql: 'SELECT key_hash FROM api_keys WHERE key_hash = $1', params: [hash] });
    t.equal(stored.length, 1, 'only the hash is stored');
  });
}

t.test('on embedded PGlite', (t) => suite(t, { TROUPE_STORE: 'pglite' }));

const pgUrl = await postgresUrl();

t.test('on PostgreSQL', { skip: requireService('PostgreSQL', pgUrl) }, async (t) => {
  const url = pgUrl as string;
  const schema = `troupe_gw_${randomBytes(4).toString('hex')}`;
  t.teardown(async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  });
  await suite(t, { TROUPE_STORE: 'postgres', DATABASE_URL: url, TROUPE_DB_SCHEMA: schema });
});
