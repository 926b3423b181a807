import t from 'tap';
import { RedisConnection } from '../../store/redis/connection.js';
import { DegradingLimiter } from '../../store/redis/degrading_limiter.js';
import { RedisStoreError } from '../../store/redis/errors.js';
import { RedisTokenBucketLimiter } from '../../store/redis/rate_limiter.js';
import type { RateDecision, RateLimiter } from '../../store/redis/types.js';
import { redisServerSkipReason, redisSkipReason } from './redis_available.js';
import { connectForTest, connectThroughProxy, recordingLogger, RedisServerProcess, waitFor } from './test_redis.js';

const FALLBACK_DECISION: RateDecision = { allowed: true, remaining: 42, retryAfterMs: 0 };

/** An in-process limiter stand-in that counts how often it is asked. */
function countingFallback(): RateLimiter & { calls: number } {
  const fallback = {
    calls: 0,
    take: async (): Promise<RateDecision> => {
      fallback.calls++;
      return FALLBACK_DECISION;
    },
  };
  return fallback;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

t.test('INVALID_REQUEST from the primary reaches the caller and does not degrade', async (t) => {
  const primary: RateLimiter = {
    take: async () => {
      throw new RedisStoreError('INVALID_REQUEST', 'bad key');
    },
  };
  const fallback = countingFallback();
  const limiter = new DegradingLimiter(primary, fallback, { logger: recordingLogger().logger });
  await t.rejects(limiter.take('k'), { code: 'INVALID_REQUEST' });
  t.equal(limiter.mode, 'primary');
  t.equal(fallback.calls, 0);
});

t.test('a throwing onDegrade callback does not stop the fallback answering', async (t) => {
  const primary: RateLimiter = {
    take: async () => {
      throw new Error('connection lost');
    },
  };
  const { logger, lines } = recordingLogger();
  const limiter = new DegradingLimiter(primary, countingFallback(), {
    logger,
    onDegrade: () => {
      throw new Error('metrics exploded');
    },
  });
  t.same(await limiter.take('k'), FALLBACK_DECISION);
  t.ok(lines.some((line) => line.message.includes('callback threw')));
});

t.test('once degraded, calls skip the primary until the next probe is due', async (t) => {
  let primaryCalls = 0;
  const primary: RateLimiter = {
    take: async () => {
      primaryCalls++;
      throw new Error('down');
    },
  };
  const limiter = new DegradingLimiter(primary, countingFallback(), {
    logger: recordingLogger().logger,
    probeIntervalMs: 60_000,
  });
  await limiter.take('k');
  await Promise.all(Array.from({ length: 50 }, () => limiter.take('k')));
  t.equal(primaryCalls, 1, 'only the call that found the outage reached the primary');
  t.equal(limiter.stats.fallbackDecisions, 51);
});

const skip = redisServerSkipReason();

t.test('killing Redis degrades to the fallback once; restarting it brings the primary back', { skip }, async (t) => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  const server = await RedisServerProcess.start();
  t.teardown(() => server.stop());
  const { logger, lines } = recordingLogger();
  const connection = new RedisConnection({ url: server.url, logger, maxBackoffMs: 100, commandTimeoutMs: 500 });
  t.teardown(() => connection.close());
  t.equal(await connection.waitUntilUp(5000), true);

  const primary = new RedisTokenBucketLimiter(connection.client, { capacity: 1000, refillPerSec: 0.001 });
  const fallback = countingFallback();
  let degraded = 0;
  let recovered = 0;
  const limiter = new DegradingLimiter(primary, fallback, {
    logger,
    probeIntervalMs: 50,
    onDegrade: () => degraded++,
    onRecover: () => recovered++,
  });

  t.equal((await limiter.take('tenant:a')).remaining, 999, 'answered by Redis while it is up');

  await server.stop();
  const during = await Promise.all(Array.from({ length: 20 }, () => limiter.take('tenant:a')));
  t.ok(
    during.every((decision) => decision === FALLBACK_DECISION),
    'every request is answered by the fallback',
  );
  t.equal(limiter.mode, 'fallback');
  for (let i = 0; i < 6; i++) {
    await sleep(30);
    t.same(await limiter.take('tenant:a'), FALLBACK_DECISION);
  }
  t.equal(degraded, 1, 'the switch is reported once');
  t.equal(limiter.stats.degradations, 1);
  t.ok(await waitFor(() => connection.health === 'down', 2000));
  t.equal(connection.stats.degradations, 1, 'the connection counted one outage');

  await server.restart();
  t.equal(await connection.waitUntilUp(5000), true, 'the client reconnected by itself');
  const back = await waitFor(
    async () => {
      await limiter.take('tenant:a');
      return limiter.mode === 'primary';
    },
    5000,
    60,
  );
  t.equal(back, true, 'the limiter returned to Redis');
  const fallbackCallsBefore = fallback.calls;
  // The restarted server is empty: the probe that recovered took one token.
  t.equal((await limiter.take('tenant:a')).remaining, 998);
  t.equal(fallback.calls, fallbackCallsBefore, 'the fallback is no longer asked');
  t.equal(recovered, 1);
  t.equal(connection.stats.recoveries, 1);
  t.same(
    lines.filter((line) => line.message.startsWith('rate limiter')).map((line) => line.level),
    ['warn', 'info'],
    'one log line for the switch and one for the return',
  );
  t.same(unhandled, [], 'no unhandled rejections');
});

const skipShared = await redisSkipReason();

t.test('given the connection, the first call after Redis returns goes to Redis without waiting for a probe', { skip: skipShared }, async (t) => {
  const { prefix } = await connectForTest(t);
  const { proxy, connection } = await connectThroughProxy(t);
  const primary = new RedisTokenBucketLimiter(connection.client, { capacity: 10, refillPerSec: 0.001, prefix });
  const fallback = countingFallback();
  const limiter = new DegradingLimiter(primary, fallback, {
    logger: recordingLogger().logger,
    probeIntervalMs: 3_600_000,
    connection,
  });
  t.teardown(() => limiter.close());
  await proxy.cut();
  t.ok(await waitFor(() => connection.health === 'down', 5000));
  t.same(await limiter.take('k'), FALLBACK_DECISION);
  await proxy.restore();
  t.ok(await waitFor(() => connection.health === 'up', 5000));
  t.equal((await limiter.take('k')).remaining, 9, 'answered by Redis');
  t.equal(limiter.mode, 'primary');
  t.equal(fallback.calls, 1);
});
