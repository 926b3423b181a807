/**
 * The gateway's rate limiters. In process: one token bucket per scope behind
 * security's CompositeLimiter. With Redis: the same scopes charged atomically
 * in Redis, so limits hold across gateway processes; while Redis is down every
 * decision falls back to the in-process buckets (logged once, counted), and
 * Redis takes over again when it is back. A Redis outage never fails a request.
 */
import { CompositeLimiter, TokenBucketLimiter } from '../security/rate_limit.js';
import type { LimitKeys, RateDecision, ScopedLimiter } from '../security/types.js';
import { RedisScopedLimiter, type RedisConnection } from '../store/redis/index.js';
import type { RateSpec, ScopedRates } from './config.js';

export interface LimiterStats {
  /** Decisions taken from the in-process buckets because Redis was unavailable. */
  fallbackDecisions: number;
  /** Times the limiter switched to the fallback. */
  degradations: number;
}

export function localScopedLimiter(rates: ScopedRates): CompositeLimiter {
  const bucket = (r: RateSpec) => new TokenBucketLimiter({ capacity: r.burst, refillPerSec: r.perSec, maxKeys: 100_000 });
  return new CompositeLimiter({ tenant: bucket(rates.tenant), user: bucket(rates.user), ip: bucket(rates.ip) });
}

export class DegradingScopedLimiter implements ScopedLimiter {
  readonly stats: LimiterStats = { fallbackDecisions: 0, degradations: 0 };
  private degraded = false;

  constructor(
    private readonly primary: RedisScopedLimiter,
    private readonly fallback: ScopedLimiter,
    private readonly connection: RedisConnection,
    private readonly log: (msg: string) => void,
  ) {}

  async take(keys: LimitKeys, cost = 1): Promise<RateDecision> {
    if (this.connection.health === 'up') {
      try {
        const d = await this.primary.take({ ...keys }, cost);
        if (this.degraded) {
          this.degraded = false;
          this.log('Redis is back: rate limits are distributed again');
        }
        return d;
      } catch (err) {
        if ((err as { code?: string }).code === 'INVALID_REQUEST') throw err;
        this.degrade(err);
      }
    } else {
      this.degrade('connection down');
    }
    this.stats.fallbackDecisions++;
    return this.fallback.take(keys, cost);
  }

  private degrade(reason: unknown): void {
    if (this.degraded) return;
    this.degraded = true;
    this.stats.degradations++;
    this.log(`Redis unavailable (${String(reason)}): rate limits fall back to this process`);
  }
}

export function scopedLimiter(rates: ScopedRates, redis: RedisConnection | undefined, prefix: string, log: (msg: string) => void): ScopedLimiter & { stats?: LimiterStats } {
  const local = localScopedLimiter(rates);
  if (redis === undefined) return local;
  const spec = (r: RateSpec) => ({ capacity: r.burst, refillPerSec: r.perSec });
  const primary = new RedisScopedLimiter(redis.client, { tenant: spec(rates.tenant), user: spec(rates.user), ip: spec(rates.ip) }, { prefix });
  return new DegradingScopedLimiter(primary, local, redis, log);
}
