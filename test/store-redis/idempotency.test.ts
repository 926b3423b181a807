import t, { type Test } from 'tap';
import { RedisConnection } from '../../store/redis/connection.js';
import { IdempotencyStore } from '../../store/redis/idempotency.js';
import { redisSkipReason } from './redis_available.js';
import { connectForTest, connectThroughProxy, freePort, recordingLogger, waitFor } from './test_redis.js';

const skip = await redisSkipReason();

function storeOn(connection: RedisConnection, prefix: string, fallbackMaxEntries?: number): IdempotencyStore {
  return new IdempotencyStore(connection, { prefix, fallbackMaxEntries, logger: recordingLogger().logger });
}

async function unreachable(t: Test): Promise<RedisConnection> {
  const port = await freePort();
  const connection = new RedisConnection({ url: `redis://127.0.0.1:${port}`, logger: recordingLogger().logger });
  t.teardown(() => connection.close());
  return connection;
}

t.test('two concurrent claims of one key from two processes: exactly one is fresh', { skip }, async (t) => {
  const a = await connectForTest(t);
  const b = await connectForTest(t);
  const storeA = storeOn(a.connection, a.prefix);
  const storeB = storeOn(b.connection, a.prefix);
  const claims = await Promise.all([
    storeA.claim('acme', 'send-1', 60_000),
    storeB.claim('acme', 'send-1', 60_000),
    storeA.claim('acme', 'send-1', 60_000),
    storeB.claim('acme', 'send-1', 60_000),
  ]);
  t.equal(claims.filter((claim) => claim.fresh).length, 1);
});

t.test('after complete, a retry learns the runId of the first send', { skip }, async (t) => {
  const { connection, prefix } = await connectForTest(t);
  const store = storeOn(connection, prefix);
  t.same(await store.claim('acme', 'send-1', 60_000), { fresh: true });
  t.same(await store.claim('acme', 'send-1', 60_000), { fresh: false }, 'still starting: no runId yet');
  t.equal(await store.complete('acme', 'send-1', 'run-42'), true);
  t.same(await store.claim('acme', 'send-1', 60_000), { fresh: false, runId: 'run-42' });
});

t.test('complete keeps the claim’s ttl and fails for a claim that is gone', { skip }, async (t) => {
  const { connection, prefix } = await connectForTest(t);
  const store = storeOn(connection, prefix);
  await store.claim('acme', 'send-1', 30_000);
  await store.complete('acme', 'send-1', 'run-1');
  const pttl = await connection.client.pttl(store.keyFor('acme', 'send-1'));
  t.ok(pttl > 0 && pttl <= 30_000, `pttl ${pttl}`);
  t.equal(await store.complete('acme', 'never-claimed', 'run-2'), false);
});

t.test('release lets a retry claim again, but a completed run stays recorded', { skip }, async (t) => {
  const { connection, prefix } = await connectForTest(t);
  const store = storeOn(connection, prefix);
  await store.claim('acme', 'failed-start', 60_000);
  await store.release('acme', 'failed-start');
  t.same(await store.claim('acme', 'failed-start', 60_000), { fresh: true });

  await store.claim('acme', 'started', 60_000);
  await store.complete('acme', 'started', 'run-7');
  await store.release('acme', 'started');
  t.same(await store.claim('acme', 'started', 60_000), { fresh: false, runId: 'run-7' });
});

t.test('a claim expires after its ttl', { skip }, async (t) => {
  const { connection, prefix } = await connectForTest(t);
  const store = storeOn(connection, prefix);
  await store.claim('acme', 'send-1', 50);
  await new Promise((resolve) => setTimeout(resolve, 120));
  t.same(await store.claim('acme', 'send-1', 60_000), { fresh: true });
});

t.test('tenants never share keys, even when the parts contain colons', { skip }, async (t) => {
  const { connection, prefix } = await connectForTest(t);
  const store = storeOn(connection, prefix);
  t.same(await store.claim('a:b', 'c', 60_000), { fresh: true });
  t.same(await store.claim('a', 'b:c', 60_000), { fresh: true });
  t.same(await store.claim('other', 'c', 60_000), { fresh: true });
});

t.test('bad arguments are rejected with INVALID_REQUEST', { skip }, async (t) => {
  const { connection, prefix } = await connectForTest(t);
  const store = new IdempotencyStore(connection, { prefix, maxTtlMs: 1000, logger: recordingLogger().logger });
  await t.rejects(store.claim('', 'k', 100), { code: 'INVALID_REQUEST' });
  await t.rejects(store.claim('acme', '', 100), { code: 'INVALID_REQUEST' });
  await t.rejects(store.claim('acme', 'k', 0), { code: 'INVALID_REQUEST' });
  await t.rejects(store.claim('acme', 'k', 1001), { code: 'INVALID_REQUEST' });
  await t.rejects(store.complete('acme', 'k', ''), { code: 'INVALID_REQUEST' });
});

t.test('with Redis unreachable, claims are decided in process and never throw', async (t) => {
  const store = storeOn(await unreachable(t), 'troupe-test:');
  t.same(await store.claim('acme', 'send-1', 60_000), { fresh: true });
  t.same(await store.claim('acme', 'send-1', 60_000), { fresh: false });
  t.equal(await store.complete('acme', 'send-1', 'run-9'), true);
  t.same(await store.claim('acme', 'send-1', 60_000), { fresh: false, runId: 'run-9' });
  t.equal(store.stats.fallbackClaims, 1);
});

t.test('claims made during an outage are still honoured after Redis returns', { skip }, async (t) => {
  const { prefix } = await connectForTest(t);
  const { proxy, connection } = await connectThroughProxy(t);
  const store = storeOn(connection, prefix);
  t.same(await store.claim('acme', 'before', 60_000), { fresh: true });

  await proxy.cut();
  t.ok(await waitFor(() => connection.health === 'down', 5000));
  t.same(await store.claim('acme', 'during', 60_000), { fresh: true }, 'decided in process');
  t.same(await store.claim('acme', 'during', 60_000), { fresh: false });
  t.same(await store.claim('acme', 'before', 60_000), { fresh: true }, 'the weaker guarantee: Redis claims are unseen');

  await proxy.restore();
  t.ok(await waitFor(() => connection.health === 'up', 5000));
  t.same(await store.claim('acme', 'during', 60_000), { fresh: false }, 'the in-process claim still counts');
  t.same(await store.claim('acme', 'after', 60_000), { fresh: true });
  t.same(await store.claim('acme', 'after', 60_000), { fresh: false });
  t.equal(await connection.client.exists(store.keyFor('acme', 'after')), 1, 'new claims go to Redis again');
  t.equal(store.stats.fallbackClaims, 2);
});

t.test('the in-process fallback is bounded and forgets its oldest claims', async (t) => {
  const store = storeOn(await unreachable(t), 'troupe-test:', 2);
  await store.claim('acme', 'k1', 60_000);
  await store.claim('acme', 'k2', 60_000);
  await store.claim('acme', 'k3', 60_000);
  t.same(await store.claim('acme', 'k3', 60_000), { fresh: false });
  t.same(await store.claim('acme', 'k1', 60_000), { fresh: true }, 'k1 was evicted: the documented weaker guarantee');
});
