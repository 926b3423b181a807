import t, { type Test } from 'tap';
import { RedisCache } from '../../store/redis/cache.js';
import { RedisConnection } from '../../store/redis/connection.js';
import { redisSkipReason } from './redis_available.js';
import { connectForTest, connectThroughProxy, freePort, recordingLogger, waitFor } from './test_redis.js';

const skip = await redisSkipReason();

interface AgentConfig {
  model: string;
}

/** A stand-in for the database: a map plus a count of reads. */
function source(initial: Record<string, AgentConfig>): {
  rows: Map<string, AgentConfig>;
  reads: () => number;
  load: (key: string) => Promise<AgentConfig | undefined>;
} {
  const rows = new Map(Object.entries(initial));
  let reads = 0;
  return {
    rows,
    reads: () => reads,
    load: async (key) => {
      reads++;
      return rows.get(key);
    },
  };
}

function cacheOn(connection: RedisConnection, prefix: string): RedisCache<AgentConfig> {
  return new RedisCache<AgentConfig>(connection, {
    namespace: 'agent',
    ttlMs: 60_000,
    prefix,
    logger: recordingLogger().logger,
  });
}

/** Two connections and two caches over one key space, as two gateway processes would have. */
async function twoProcesses(t: Test): Promise<{ cacheA: RedisCache<AgentConfig>; cacheB: RedisCache<AgentConfig> }> {
  const a = await connectForTest(t);
  const b = await connectForTest(t);
  const cacheA = cacheOn(a.connection, a.prefix);
  const cacheB = cacheOn(b.connection, a.prefix);
  t.teardown(() => Promise.all([cacheA.close(), cacheB.close()]));
  return { cacheA, cacheB };
}

t.test('a repeated get is answered in process without the loader', { skip }, async (t) => {
  const { connection, prefix } = await connectForTest(t);
  const cache = cacheOn(connection, prefix);
  t.teardown(() => cache.close());
  const db = source({ a1: { model: 'sim' } });
  t.same(await cache.get('a1', db.load), { model: 'sim' });
  t.same(await cache.get('a1', db.load), { model: 'sim' });
  t.equal(db.reads(), 1);
  t.equal(cache.stats.l1Hits, 1);
  t.equal(await connection.client.pttl(cache.keyFor('a1')) > 0, true, 'stored in Redis with a ttl');
});

t.test('concurrent gets for one key share one load', { skip }, async (t) => {
  const { connection, prefix } = await connectForTest(t);
  const cache = cacheOn(connection, prefix);
  t.teardown(() => cache.close());
  const db = source({ a1: { model: 'sim' } });
  const values = await Promise.all(Array.from({ length: 10 }, () => cache.get('a1', db.load)));
  t.ok(values.every((value) => value?.model === 'sim'));
  t.equal(db.reads(), 1);
});

t.test('a value loaded by one process is read from Redis by another', { skip }, async (t) => {
  const { cacheA, cacheB } = await twoProcesses(t);
  const db = source({ a1: { model: 'sim' } });
  await cacheA.get('a1', db.load);
  t.same(await cacheB.get('a1', db.load), { model: 'sim' });
  t.equal(db.reads(), 1);
  t.equal(cacheB.stats.redisHits, 1);
});

t.test('invalidate in one process drops the in-process copy in another', { skip }, async (t) => {
  const { cacheA, cacheB } = await twoProcesses(t);
  t.equal(await cacheB.waitUntilSubscribed(5000), true);
  const db = source({ a1: { model: 'old' } });
  await cacheA.get('a1', db.load);
  t.same(await cacheB.get('a1', db.load), { model: 'old' });
  t.same(await cacheB.get('a1', db.load), { model: 'old' }, 'now held in B’s L1');

  db.rows.set('a1', { model: 'new' });
  await cacheA.invalidate('a1');
  t.ok(await waitFor(() => cacheB.stats.invalidationsReceived === 1, 5000), 'B heard the invalidation');
  t.same(await cacheB.get('a1', db.load), { model: 'new' });
  t.same(await cacheA.get('a1', db.load), { model: 'new' });
});

t.test('a load that an invalidation overtakes is returned but not cached', { skip }, async (t) => {
  const { connection, prefix } = await connectForTest(t);
  const cache = cacheOn(connection, prefix);
  t.teardown(() => cache.close());
  let release: () => void = () => undefined;
  const slowLoad = (): Promise<AgentConfig> =>
    new Promise((resolve) => {
      release = () => resolve({ model: 'stale' });
    });
  const pending = cache.get('a1', slowLoad);
  await waitFor(() => cache.stats.loads === 1, 2000, 5);
  await cache.invalidate('a1');
  release();
  t.same(await pending, { model: 'stale' });
  t.equal(await connection.client.exists(cache.keyFor('a1')), 0, 'nothing written to Redis');
  const db = source({ a1: { model: 'fresh' } });
  t.same(await cache.get('a1', db.load), { model: 'fresh' });
});

t.test('missing values and loader errors are not cached', { skip }, async (t) => {
  const { connection, prefix } = await connectForTest(t);
  const cache = cacheOn(connection, prefix);
  t.teardown(() => cache.close());
  const db = source({});
  t.equal(await cache.get('nope', db.load), undefined);
  t.equal(await cache.get('nope', db.load), undefined);
  t.equal(db.reads(), 2);
  await t.rejects(
    cache.get('boom', async () => {
      throw new Error('database down');
    }),
    { message: 'database down' },
  );
  t.same(await cache.get('boom', async () => ({ model: 'ok' })), { model: 'ok' });
});

t.test('a value that fails decode is treated as a miss', { skip }, async (t) => {
  const { connection, prefix } = await connectForTest(t);
  const strict = new RedisCache<AgentConfig>(connection, {
    namespace: 'agent',
    ttlMs: 60_000,
    prefix,
    logger: recordingLogger().logger,
    decode: (raw) => {
      if (typeof raw !== 'object' || raw === null || typeof (raw as AgentConfig).model !== 'string') {
        throw new Error('not an agent config');
      }
      return raw as AgentConfig;
    },
  });
  t.teardown(() => strict.close());
  await connection.client.set(strict.keyFor('a1'), '{"model":7}');
  const db = source({ a1: { model: 'sim' } });
  t.same(await strict.get('a1', db.load), { model: 'sim' });
  t.equal(db.reads(), 1);
  t.equal(strict.stats.redisErrors, 1);
});

t.test('with Redis unreachable the cache is the loader plus the in-process copy', async (t) => {
  const port = await freePort();
  const connection = new RedisConnection({ url: `redis://127.0.0.1:${port}`, logger: recordingLogger().logger });
  t.teardown(() => connection.close());
  const cache = cacheOn(connection, 'troupe-test:');
  t.teardown(() => cache.close());
  const db = source({ a1: { model: 'sim' } });
  t.same(await cache.get('a1', db.load), { model: 'sim' });
  t.same(await cache.get('a1', db.load), { model: 'sim' });
  t.equal(db.reads(), 1);
  db.rows.set('a1', { model: 'new' });
  await cache.invalidate('a1');
  t.same(await cache.get('a1', db.load), { model: 'new' }, 'a local invalidation still works');
  t.equal(cache.subscribed, false);
});

t.test('bad cache options are rejected with INVALID_REQUEST', { skip }, async (t) => {
  const { connection } = await connectForTest(t);
  const logger = recordingLogger().logger;
  t.throws(() => new RedisCache(connection, { namespace: 'Bad Name', ttlMs: 1000, logger }), {
    code: 'INVALID_REQUEST',
  });
  t.throws(() => new RedisCache(connection, { namespace: 'agent', ttlMs: 0, logger }), { code: 'INVALID_REQUEST' });
  t.throws(() => new RedisCache(connection, { namespace: 'agent', ttlMs: 1000, l1TtlMs: 2000, logger }), {
    code: 'INVALID_REQUEST',
  });
  const cache = new RedisCache<string>(connection, { namespace: 'agent', ttlMs: 1000, logger });
  t.teardown(() => cache.close());
  await t.rejects(async () => cache.get('', async () => 'x'), { code: 'INVALID_REQUEST' });
});

t.test('an invalidation made while Redis is unreachable is replayed when it returns', { skip }, async (t) => {
  const direct = await connectForTest(t);
  const { proxy, connection: viaProxy } = await connectThroughProxy(t);
  const cache = cacheOn(viaProxy, direct.prefix);
  t.teardown(() => cache.close());
  const db = source({ a1: { model: 'old' } });
  await cache.get('a1', db.load);
  const redisKey = cache.keyFor('a1');
  t.equal(await direct.connection.client.exists(redisKey), 1, 'cached in Redis');

  await proxy.cut();
  t.ok(await waitFor(() => viaProxy.health === 'down', 5000), 'the cache’s connection is down');
  db.rows.set('a1', { model: 'new' });
  await cache.invalidate('a1');
  t.same(await cache.get('a1', db.load), { model: 'new' }, 'dropped locally at once');
  t.equal(await direct.connection.client.exists(redisKey), 1, 'the Redis copy is still there');

  await proxy.restore();
  t.ok(
    await waitFor(async () => (await direct.connection.client.exists(redisKey)) === 0, 5000),
    'the Redis copy was deleted after the connection came back',
  );
});
