import t from 'tap';
import { RedisTokenBucketLimiter } from '../../store/redis/rate_limiter.js';
import { redisSkipReason } from './redis_available.js';
import { connectForTest } from './test_redis.js';

const skip = await redisSkipReason();

t.test('admits up to capacity, then denies with the time until the next token', { skip }, async (t) => {
  const { connection, prefix } = await connectForTest(t);
  const limiter = new RedisTokenBucketLimiter(connection.client, { capacity: 3, refillPerSec: 10, prefix });
  const decisions = [];
  for (let i = 0; i < 4; i++) decisions.push(await limiter.take('tenant:a'));
  t.same(
    decisions.slice(0, 3).map((d) => [d.allowed, d.remaining, d.retryAfterMs]),
    [
      [true, 2, 0],
      [true, 1, 0],
      [true, 0, 0],
    ],
  );
  const denied = decisions[3];
  t.equal(denied.allowed, false);
  t.equal(denied.remaining, 0);
  // One token takes 100 ms at 10/s; some of it has already elapsed.
  t.ok(denied.retryAfterMs > 0 && denied.retryAfterMs <= 100, `retryAfterMs ${denied.retryAfterMs}`);
});

t.test('retryAfterMs covers the whole cost, not one token', { skip }, async (t) => {
  const { connection, prefix } = await connectForTest(t);
  const limiter = new RedisTokenBucketLimiter(connection.client, { capacity: 10, refillPerSec: 1, prefix });
  t.equal((await limiter.take('k', 10)).allowed, true);
  const denied = await limiter.take('k', 4);
  t.equal(denied.allowed, false);
  t.ok(denied.retryAfterMs > 3000 && denied.retryAfterMs <= 4000, `retryAfterMs ${denied.retryAfterMs}`);
});

t.test('a denied take spends nothing', { skip }, async (t) => {
  const { connection, prefix } = await connectForTest(t);
  const limiter = new RedisTokenBucketLimiter(connection.client, { capacity: 5, refillPerSec: 0.001, prefix });
  t.equal((await limiter.take('k', 3)).remaining, 2);
  t.equal((await limiter.take('k', 3)).allowed, false);
  const after = await limiter.take('k', 2);
  t.same([after.allowed, after.remaining], [true, 0]);
});

t.test('tokens come back with time', { skip }, async (t) => {
  const { connection, prefix } = await connectForTest(t);
  const limiter = new RedisTokenBucketLimiter(connection.client, { capacity: 2, refillPerSec: 50, prefix });
  await limiter.take('k', 2);
  const denied = await limiter.take('k');
  t.equal(denied.allowed, false);
  await new Promise((resolve) => setTimeout(resolve, denied.retryAfterMs + 20));
  t.equal((await limiter.take('k')).allowed, true);
});

t.test('buckets are separate per key', { skip }, async (t) => {
  const { connection, prefix } = await connectForTest(t);
  const limiter = new RedisTokenBucketLimiter(connection.client, { capacity: 1, refillPerSec: 0.001, prefix });
  t.equal((await limiter.take('tenant:a')).allowed, true);
  t.equal((await limiter.take('tenant:a')).allowed, false);
  t.equal((await limiter.take('tenant:b')).allowed, true);
});

t.test('a bucket key expires when the bucket would be full again', { skip }, async (t) => {
  const { connection, prefix } = await connectForTest(t);
  const limiter = new RedisTokenBucketLimiter(connection.client, { capacity: 10, refillPerSec: 5, prefix });
  await limiter.take('k', 4);
  // 4 missing tokens at 5/s: full again in 800 ms.
  const pttl = await connection.client.pttl(limiter.keyFor('k'));
  t.ok(pttl > 0 && pttl <= 800, `pttl ${pttl}`);
});

t.test('the script is reloaded after SCRIPT FLUSH', { skip }, async (t) => {
  const { connection, prefix } = await connectForTest(t);
  const limiter = new RedisTokenBucketLimiter(connection.client, { capacity: 2, refillPerSec: 1, prefix });
  await limiter.take('k');
  await connection.client.script('FLUSH');
  const decision = await limiter.take('k');
  t.same([decision.allowed, decision.remaining], [true, 0]);
});

t.test('bad options and arguments are rejected with INVALID_REQUEST', { skip }, async (t) => {
  const { connection, prefix } = await connectForTest(t);
  const client = connection.client;
  t.throws(() => new RedisTokenBucketLimiter(client, { capacity: 0, refillPerSec: 1 }), { code: 'INVALID_REQUEST' });
  t.throws(() => new RedisTokenBucketLimiter(client, { capacity: 1, refillPerSec: 0 }), { code: 'INVALID_REQUEST' });
  t.throws(() => new RedisTokenBucketLimiter(client, { capacity: 1, refillPerSec: 1, prefix: 'a b' }), {
    code: 'INVALID_REQUEST',
  });
  const limiter = new RedisTokenBucketLimiter(client, { capacity: 5, refillPerSec: 1, prefix });
  await t.rejects(limiter.take(''), { code: 'INVALID_REQUEST' });
  await t.rejects(limiter.take('k', 0), { code: 'INVALID_REQUEST' });
  await t.rejects(limiter.take('k', Number.NaN), { code: 'INVALID_REQUEST' });
  await t.rejects(limiter.take('k', 6), { code: 'INVALID_REQUEST' });
  await t.rejects(limiter.take('x'.repeat(513)), { code: 'INVALID_REQUEST' });
});
