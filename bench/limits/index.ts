/**
 * `troupe bench limits`: rate-limiter decisions per second, in process and on
 * Redis, with the gateway's own scoped limiters (tenant, user and IP buckets
 * charged together) and the same client loop: `concurrency` decisions in flight,
 * for `durationMs` each, over `keys` distinct users. The budget is set high so
 * every decision is a real take.
 */
import { localScopedLimiter } from '../../gateway/limits.js';
import type { ScopedRates } from '../../gateway/config.js';
import type { ScopedLimiter } from '../../security/types.js';
import { RedisConnection, RedisScopedLimiter } from '../../store/redis/index.js';

export interface LimitsBenchOptions {
  durationMs: number;
  concurrency: number;
  keys: number;
  redisUrl?: string;
}

export interface LimitsBenchResult {
  benchmark: 'limits';
  date: string;
  settings: LimitsBenchOptions;
  results: { inProcess: { decisionsPerSec: number; allowed: number }; redis?: { decisionsPerSec: number; allowed: number; error?: string } };
  ratio?: number;
}

const RATES: ScopedRates = {
  tenant: { perSec: 1e9, burst: 1e9 }, user: { perSec: 1e9, burst: 1e9 }, ip: { perSec: 1e9, burst: 1e9 },
};

async function drive(limiter: ScopedLimiter, o: LimitsBenchOptions): Promise<{ decisionsPerSec: number; allowed: number }> {
  let decisions = 0;
  let allowed = 0;
  const until = performance.now() + o.durationMs;
  let n = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < until) {
      const i = n++ % o.keys;
      const d = await limiter.take({ tenant: `t${i % 10}`, user: `t${i % 10}:u${i}`, ip: `10.0.${(i >> 8) & 255}.${i & 255}` });
      decisions++;
      if (d.allowed) allowed++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return { decisionsPerSec: Math.round(decisions / ((performance.now() - started) / 1000)), allowed };
}

export async function runLimitsBench(o: LimitsBenchOptions): Promise<LimitsBenchResult> {
  const inProcess = await drive(localScopedLimiter(RATES), o);
  const result: LimitsBenchResult = { benchmark: 'limits', date: new Date().toISOString(), settings: o, results: { inProcess } };
  if (o.redisUrl !== undefined) {
    const connection = new RedisConnection({ url: o.redisUrl });
    try {
      if (!(await connection.waitUntilUp(3_000))) throw new Error(`Redis at ${o.redisUrl} did not answer`);
      const prefix = `troupe:bench:${process.pid}:${Date.now()}:`;
      const spec = { capacity: 1e9, refillPerSec: 1e9 };
      result.results.redis = await drive(new RedisScopedLimiter(connection.client, { tenant: spec, user: spec, ip: spec }, { prefix }), o);
      result.ratio = Math.round((result.results.redis.decisionsPerSec / inProcess.decisionsPerSec) * 1000) / 1000;
      // Leave nothing behind: the bench's buckets expire, but delete them now.
      let cursor = '0';
      do {
        const [next, keys] = await connection.client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length > 0) await connection.client.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    } catch (err) {
      result.results.redis = { decisionsPerSec: 0, allowed: 0, error: String(err) };
    } finally {
      await connection.close();
    }
  }
  return result;
}
