import type { Redis } from 'ioredis';
import { RedisStoreError } from './errors.js';
import { LuaScript } from './lua_script.js';
import type { RateDecision, RateLimiter } from './types.js';
import { requireKey, requirePositiveNumber, requirePrefix } from './validate.js';

export interface RedisTokenBucketOptions {
  /** Most tokens a bucket holds; a new bucket starts full. */
  capacity: number;
  /** Tokens added per second. Must be above 0 so a bucket always refills. */
  refillPerSec: number;
  /** Prepended to every bucket key. Default `troupe:rl:`. */
  prefix?: string;
}

/*
 * One bucket is a hash {tokens, ts}: the token count as of `ts`, the server's
 * clock in milliseconds. Refill is computed on read, so an idle bucket costs
 * no writes; it is dropped by PEXPIRE at the moment it would be full again,
 * which is indistinguishable from keeping it.
 *
 * Only the server's TIME is used: gateway processes on different hosts may
 * disagree about the time, the single Redis does not disagree with itself.
 * Since Redis 5 scripts replicate their effects, so TIME is allowed here.
 */
const TAKE = new LuaScript(`
local capacity = tonumber(ARGV[1])
local perMs = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
if now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * perMs)
else
  now = ts
end
if tokens < cost then
  return {0, math.floor(tokens), math.ceil((cost - tokens) / perMs)}
end
tokens = tokens - cost
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((capacity - tokens) / perMs)))
return {1, math.floor(tokens), 0}
`);

/**
 * A token bucket shared by every process that talks to the same Redis: refill
 * and take run in one Lua script, so concurrent callers cannot both spend the
 * last token. Redis errors reach the caller; wrap it in DegradingLimiter to
 * fall back when Redis is down.
 */
export class RedisTokenBucketLimiter implements RateLimiter {
  readonly capacity: number;
  readonly refillPerSec: number;
  readonly prefix: string;
  readonly #client: Redis;
  readonly #perMs: number;

  constructor(client: Redis, options: RedisTokenBucketOptions) {
    this.capacity = requirePositiveNumber('capacity', options.capacity);
    this.refillPerSec = requirePositiveNumber('refillPerSec', options.refillPerSec);
    this.prefix = requirePrefix(options.prefix ?? 'troupe:rl:');
    this.#client = client;
    this.#perMs = this.refillPerSec / 1000;
  }

  /** The Redis key that holds the bucket for `key`. */
  keyFor(key: string): string {
    return this.prefix + key;
  }

  async take(key: string, cost = 1): Promise<RateDecision> {
    requireKey('key', key);
    requirePositiveNumber('cost', cost);
    if (cost > this.capacity) {
      throw new RedisStoreError('INVALID_REQUEST', `cost ${cost} exceeds bucket capacity ${this.capacity}`);
    }
    const reply = await TAKE.run(this.#client, [this.keyFor(key)], [this.capacity, this.#perMs, cost]);
    return toDecision(reply);
  }
}

function toDecision(reply: unknown): RateDecision {
  if (!Array.isArray(reply) || reply.length !== 3 || !reply.every((n) => typeof n === 'number')) {
    throw new RedisStoreError('INTERNAL', 'unexpected reply from the token bucket script');
  }
  const [allowed, remaining, retryAfterMs] = reply as number[];
  return { allowed: allowed === 1, remaining, retryAfterMs };
}
