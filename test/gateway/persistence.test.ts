import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { dropSchemaOnTeardown } from '../store/backends.js';

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

  t.test('a send with an idempotency key is known to the session that comes back: a retry is the same run, not a second message', async (t) => {
    // The session takes such a send once the store worker has its message, key included (actors/session.ts):
    // after passivation (or its worker's death) the session rehydrates the key with the history.
    const gw = await startGateway(configFor(dataDir, { ...env, TROUPE_SESSION_IDLE_MS: '1000' }));
    t.teardown(() => gw.shutdown());
    const send = ['chat.send', { message: 'deliver this once', sessionKey: 'p6', idempotencyKey: 'outcome-6' }] as [string, Record<string, unknown>];
    const [, unknown, first] = await call(gw, token, [
      ['connect', {}], ['chat.send', { ...send[1], agent: 'nobody' }], send,
    ]);
    t.match(unknown, { ok: false, error: { code: 'NOT_FOUND' } }, 'a send to an unknown agent fails…');
    t.equal(first.ok, true, '…and keeps nothing: the same key is then accepted (its run answers: the history below)');
    await new Promise((r) => setTimeout(r, 2_000));
    const [, listed, again, history] = await call(gw, token, [['connect', {}], ['sessions.list', {}], send, ['chat.history', { sessionKey: 'p6' }]]);
    t.notOk((listed.payload?.sessions as { sessionKey: string }[]).some((s) => s.sessionKey === 'p6'), 'the session had passivated');
    t.equal(again.payload?.runId, first.payload?.runId, 'the retry names the first run');
    const messages = history.payload?.messages as Record<string, unknown>[];
    t.equal(messages.filter((m) => m.content === 'deliver this once').length, 1, 'the history holds the message once');
    t.equal(messages.length, 2, 'and its one answer');
    t.notOk(messages.some((m) => 'key' in m), 'the key stays with the store: a client never sees it');
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

  t.test('a chat turn writes three rows: its two messages and one usage row, which is the turn\'s record; no audit row', async (t) => {
    // A row is most of what a turn costs the store worker (bench/RESULTS.md, issue 12): a second
    // per-turn row (the audit's chat.turn) or a third message would show here.
    const gw = await startGateway(configFor(dataDir, env));
    t.teardown(() => gw.shutdown());
    const store = gw.store!;
    const rowsTenant = `r${randomBytes(4).toString('hex')}`;
    const rowsToken = await signToken({ secret: SECRET, tenant: rowsTenant, user: 'bob', ttlSec: 600 });
    const turns = 5;
    const steps: [string, Record<string, unknown>][] = [['connect', {}]];
    for (let i = 0; i < turns; i++) steps.push(['chat.send', { message: `turn ${i}`, sessionKey: 'rows' }]);
    const frames = await call(gw, rowsToken, steps);
    t.equal(frames.filter((f) => f.ok === true).length, turns + 1);
    // A user message and the reply written with it are one row (migration 011): count messages, not rows.
    const MESSAGES = 'SELECT (count(*) + count(reply))::int AS n FROM messages';
    const count = async (sql: string): Promise<number> =>
      Number((await store.call<unknown, { n: number }[]>(STORE_CALLS, 'tenantQuery', { tenant: rowsTenant, sql }))[0].n);
    // The assistant's message travels from the session's worker, which may be behind the client's chat.final: wait for it.
    for (let i = 0; i < 200; i++) {
      await store.flush(10_000);
      if (await count(MESSAGES) >= 2 * turns) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    t.equal(await count(MESSAGES), 2 * turns, 'two messages a turn');
    t.equal(await count('SELECT count(*)::int AS n FROM usage_events'), turns, 'one usage row a turn');
    t.equal(await count('SELECT count(*)::int AS n FROM audit_log'), 0, 'no audit row for a chat turn');
    const rows = await store.call<unknown, Record<string, unknown>[]>(STORE_CALLS, 'tenantQuery', {
      tenant: rowsTenant, sql: 'SELECT user_id, session_key, source_ip, end_reason, outcome FROM usage_events',
    });
    for (const row of rows) {
      t.match(row, { user_id: 'bob', session_key: 'rows', source_ip: /127\.0\.0\.1|::1|ffff/, end_reason: 'stop', outcome: 'ok' }, 'who, which session, from where, how it ended');
    }
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
    // The tool call's audit row comes from the actor worker, this flush from the main thread: two links,
    // each in order, but not with each other (runtime/hub.ts), so on a loaded machine the flush can reach
    // the store worker first. Flush again until the row is there (bounded).
    type Row = { action: string; target?: string; sourceIp?: string };
    let rows: Row[] = [];
    for (let i = 0; i < 50; i++) {
      await store.flush(10_000);
      rows = await store.call<unknown, Row[]>(STORE_CALLS, 'auditList', { tenant, limit: 100 });
      if (rows.some((r) => r.action === 'tool.call')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const actions = rows.map((r) => r.action);
    t.ok(actions.includes('apikey.use'), 'key use is audited');
    // A chat turn's record is its usage row (one row a turn; the audit log has none for it).
    const turns = await store.call<unknown, { session_key: string; source_ip: string; api_key_id: string | null }[]>(STORE_CALLS, 'tenantQuery', {
      tenant, sql: 'SELECT session_key, source_ip, api_key_id FROM usage_events',
    });
    t.match(turns.find((r) => r.session_key === 'p3'), { source_ip: /127\.0\.0\.1|::1|ffff/, api_key_id: /./ }, 'the turn by key, with the client\'s address');
    t.ok(turns.some((r) => r.session_key.startsWith('s-')), 'the turn whose session key holds a credential is recorded');
    t.notMatch(JSON.stringify(turns), new RegExp(secretKey), 'under its scrubbed key: a credential never reaches the turn\'s record');
    t.notOk(actions.includes('chat.turn'), 'no audit row repeats it');
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
  dropSchemaOnTeardown(t, url, schema);
  await suite(t, { TROUPE_STORE: 'postgres', DATABASE_URL: url, TROUPE_DB_SCHEMA: schema });
});
