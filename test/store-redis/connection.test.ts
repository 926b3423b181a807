import t from 'tap';
import { backoffMs, RedisConnection } from '../../store/redis/connection.js';
import { RedisStoreError } from '../../store/redis/errors.js';
import { REDIS_URL, redisSkipReason } from './redis_available.js';
import { freePort, recordingLogger, waitFor } from './test_redis.js';

const skip = await redisSkipReason();

t.test('rejects a url that is not redis:// with INVALID_REQUEST', async (t) => {
  t.throws(() => new RedisConnection({ url: 'http://127.0.0.1:6379' }), { code: 'INVALID_REQUEST' });
  t.throws(() => new RedisConnection({ url: '' }), RedisStoreError);
  t.throws(() => new RedisConnection({ url: 'redis://127.0.0.1:notaport' }), { code: 'INVALID_REQUEST' });
});

t.test('reconnect backoff doubles and stops at the ceiling', async (t) => {
  t.ok(backoffMs(2, 2000) > backoffMs(1, 2000));
  t.equal(backoffMs(50, 2000), 2000);
  t.equal(backoffMs(1_000_000, 300), 300);
});

t.test('becomes up once connected and records no degradation', { skip }, async (t) => {
  const { logger } = recordingLogger();
  const connection = new RedisConnection({ url: REDIS_URL, logger });
  t.teardown(() => connection.close());
  const changes: string[] = [];
  connection.onHealthChange((health) => changes.push(health));
  t.equal(await connection.waitUntilUp(5000), true);
  t.equal(connection.health, 'up');
  t.same(changes, ['up']);
  t.same(connection.stats, { degradations: 0, recoveries: 0, errors: 0 });
});

t.test('an unreachable server stays down, counts errors and warns once without throwing', async (t) => {
  const port = await freePort();
  const { logger, lines } = recordingLogger();
  const connection = new RedisConnection({ url: `redis://127.0.0.1:${port}`, logger, maxBackoffMs: 50 });
  t.teardown(() => connection.close());
  t.ok(await waitFor(() => connection.stats.errors >= 3, 5000), 'several reconnect attempts failed');
  t.equal(connection.health, 'down');
  t.equal(await connection.waitUntilUp(50), false);
  await t.rejects(connection.client.get('k'), 'commands fail at once instead of queueing');
  t.equal(lines.filter((line) => line.level === 'warn').length, 1);
});

t.test('closing a connection is not counted as a degradation', { skip }, async (t) => {
  const connection = new RedisConnection({ url: REDIS_URL, logger: recordingLogger().logger });
  await connection.waitUntilUp(5000);
  await connection.close();
  await connection.close();
  t.equal(connection.closed, true);
  t.equal(connection.stats.degradations, 0);
  t.equal(connection.client.status, 'end');
});
