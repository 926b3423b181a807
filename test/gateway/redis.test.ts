import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import WebSocket from 'ws';
import { loadConfig, type GatewayConfig } from '../../gateway/config.js';
import { startGateway, type RunningGateway } from '../../gateway/gateway.js';
import type { DegradingScopedLimiter } from '../../gateway/limits.js';
import { signToken } from '../../security/jwt.js';
import { REDIS_URL, redisServerSkipReason, redisSkipReason } from '../store-redis/redis_available.js';
import { RedisServerProcess, waitFor } from '../store-redis/test_redis.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';

function config(redisUrl: string, env: Record<string, string> = {}): GatewayConfig {
  return {
    ...loadConfig({
      TROUPE_DATA_DIR: mkdtempSync(join(tmpdir(), 'troupe-redis-')), TROUPE_PORT: '0', TROUPE_WORKERS: '1',
      TROUPE_JWT_SECRET: SECRET, TROUPE_STORE: 'none', REDIS_URL: redisUrl, ...env,
    }),
    agents: [{ id: 'fast', model: 'sim', provider: { kind: 'simulated', tokens: 4 } }],
  };
}

interface Res { ok: boolean; payload?: { runId?: string }; error?: { code: string } }

async function connect(gw: RunningGateway, token: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/ws?token=${token}`);
  const frames: (Res & { type: string; id?: string })[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Res & { type: string; id?: string }));
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  let id = 0;
  const call = async (method: string, params: Record<string, unknown> = {}): Promise<Res> => {
    const rid = String(++id);
    ws.send(JSON.stringify({ type: 'req', id: rid, method, params }));
    let f;
    for (let i = 0; i < 2_000 && !(f = frames.find((x) => x.type === 'res' && x.id === rid)); i++) await new Promise((r) => setTimeout(r, 5));
    return f as Res;
  };
  await call('connect');
  return { ws, call };
}

t.test('two gateways share one Redis budget and one set of idempotency keys', { skip: await redisSkipReason() }, async (t) => {
  const env = { TROUPE_CHAT_TENANT_RATE: '0.001', TROUPE_CHAT_TENANT_BURST: '5' };
  const a = await startGateway(config(REDIS_URL, env));
  const b = await startGateway(config(REDIS_URL, env));
  t.teardown(async () => { await a.shutdown(); await b.shutdown(); });
  const tenant = `t${randomBytes(4).toString('hex')}`;
  const token = await signToken({ secret: SECRET, tenant, user: 'u', ttlSec: 600 });
  const ca = await connect(a, token);
  const cb = await connect(b, token);
  const same = await ca.call('chat.send', { message: 'once', sessionKey: 's', idempotencyKey: 'k1' });
  const again = await cb.call('chat.send', { message: 'once', sessionKey: 's', idempotencyKey: 'k1' });
  t.equal(again.payload?.runId, same.payload?.runId, 'a retry through the other gateway returns the same run');
  const results: boolean[] = [];
  for (let i = 0; i < 4; i++) {
    results.push((await ca.call('chat.send', { message: `a${i}` })).ok);
    results.push((await cb.call('chat.send', { message: `b${i}` })).ok);
  }
  // The first send and its retry each took a token (limits count requests): 3 of the 8 more fit in the budget of 5.
  t.equal(results.filter(Boolean).length, 3, 'the shared tenant budget of 5 admitted exactly 5 requests across both gateways');
  ca.ws.close();
  cb.ws.close();
});

t.test('when Redis goes down the gateway keeps serving on local limits, and recovers when it is back', { skip: redisServerSkipReason() }, async (t) => {
  const server = await RedisServerProcess.start();
  t.teardown(() => server.stop());
  const gw = await startGateway(config(server.url));
  t.teardown(() => gw.shutdown());
  const token = await signToken({ secret: SECRET, tenant: 'acme', user: 'u', ttlSec: 600 });
  const c = await connect(gw, token);
  t.equal((await c.call('chat.send', { message: 'before' })).ok, true);
  await server.stop();
  const during = await c.call('chat.send', { message: 'during' });
  t.equal(during.ok, true, 'requests are still served while Redis is down');
  const chat = gw.limiters.chat as DegradingScopedLimiter;
  t.equal(chat.stats.degradations, 1, 'the switch to the fallback is counted once');
  t.ok(chat.stats.fallbackDecisions >= 1);
  await server.restart();
  t.ok(await waitFor(async () => {
    const before = chat.stats.fallbackDecisions;
    return (await c.call('chat.send', { message: 'after' })).ok && chat.stats.fallbackDecisions === before;
  }, 15_000, 200), 'once Redis is back, decisions come from Redis again');
  t.equal(chat.stats.degradations, 1, 'and it did not flap');
  c.ws.close();
});

t.test('API-key lookups are cached in Redis, and a revoked key stops working at once', { skip: await redisSkipReason() }, async (t) => {
  const { generateApiKey } = await import('../../security/api_keys.js');
  const { hashApiKey } = await import('../../store/index.js');
  const gw = await startGateway(config(REDIS_URL, { TROUPE_STORE: 'pglite' }));
  t.teardown(() => gw.shutdown());
  const tenant = `t${randomBytes(4).toString('hex')}`;
  const { STORE_CALLS } = await import('../helpers/store_calls.js');
  const key = generateApiKey();
  const created = await gw.store!.call<unknown, { id: string }>(STORE_CALLS, 'createApiKey', {
    tenant, name: 'cached', keyHash: hashApiKey(key.key), scopes: ['chat'], expiresAt: Date.now() + 3_600_000,
  });
  const first = await connect(gw, key.key);
  t.equal((await first.call('ping', {})).ok, true, 'the key authenticates (and is now cached)');
  first.ws.close();
  const { code, lines } = await gw.store!.call<unknown, { code: number; lines: string[] }>(STORE_CALLS, 'keysRevoke', {
    tenant, id: created.id, redisUrl: REDIS_URL, dataDir: gw.config.dataDir,
  });
  t.equal(code, 0, lines.join('\n'));
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/ws?token=${key.key}`);
  const refused = await new Promise<boolean>((resolve) => {
    ws.once('open', () => resolve(false));
    ws.once('unexpected-response', () => resolve(true));
    ws.once('error', () => resolve(true));
  });
  ws.close();
  t.ok(refused, 'the revoked key is refused immediately, not after the cache TTL');
});
