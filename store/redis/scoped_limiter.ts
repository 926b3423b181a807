/**
 * Several token buckets charged atomically (one Lua script): a request limited
 * by, say, its tenant, user and IP either passes all three and is charged in
 * all three, or is refused and charged in none. The same semantics as
 * security's in-process CompositeLimiter, across every gateway process.
 */
import type { Redis } from 'ioredis';
import { RedisStoreError } from './errors.js';
import { LuaScript } from './lua_script.js';
import type { RateDecision } from './types.js';
import { requirePositiveNumber, requirePrefix } from './validate.js';

export interface BucketSpec {
  capacity: number;
  refillPerSec: number;
}

// KEYS: one bucket per scope. ARGV: cost, then capacity and perMs per key.
const TAKE_ALL = new LuaScript(`
local cost = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local n = #KEYS
local tokens = {}
local denied = 0
local wait = 0
local remaining = -1
for i = 1, n do
  local capacity = tonumber(ARGV[2 * i])
  local perMs = tonumber(ARGV[2 * i + 1])
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'ts')
  local tk = tonumber(state[1])
  local ts = tonumber(state[2])
  if tk == nil or ts == nil then tk = capacity; ts = now end
  if now > ts then tk = math.min(capacity, tk + (now - ts) * perMs) end
  tokens[i] = tk
  if tk < cost then
    denied = 1
    wait = math.max(wait, math.ceil((cost - tk) / perMs))
  end
end
if denied == 1 then return {0, 0, wait} end
for i = 1, n do
  local capacity = tonumber(ARGV[2 * i])
  local perMs = tonumber(ARGV[2 * i + 1])
  local left = tokens[i] - cost
  redis.call('HSET', KEYS[i], 'tokens', string.format('%.17g', left), 'ts', string.format('%.17g', now))
  redis.call('PEXPIRE', KEYS[i], math.max(1, math.ceil((capacity - left) / perMs)))
  if remaining < 0 or left < remaining then remaining = left end
end
return {1, math.floor(remaining), 0}
`);

export class RedisScopedLimiter {
  readonly #client: Redis;
  readonly #scopes: [string, BucketSpec][];
  readonly #prefix: string;

  constructor(client: Redis, scopes: Record<string, BucketSpec>, options: { prefix?: string } = {}) {
    this.#client = client;
    this.#scopes = Object.entries(scopes);
    for (const [scope, spec] of this.#scopes) {
      requirePositiveNumber(`${scope}.capacity`, spec.capacity);
      requirePositiveNumber(`${scope}.refillPerSec`, spec.refillPerSec);
    }
    this.#prefix = requirePrefix(options.prefix ?? 'troupe:rls:');
  }

  /** Charges every scope whose key is given, or none. */
  async take(keys: Partial<Record<string, string>>, cost = 1): Promise<RateDecision> {
    requirePositiveNumber('cost', cost);
    const redisKeys: string[] = [];
    const argv: number[] = [cost];
    for (const [scope, spec] of this.#scopes) {
      const key = keys[scope];
      if (key === undefined) continue;
      if (key.length === 0 || key.length > 512) throw new RedisStoreError('INVALID_REQUEST', `${scope} key must be 1..512 characters`);
      redisKeys.push(`${this.#prefix}${scope}:${key}`);
      argv.push(spec.capacity, spec.refillPerSec / 1000);
    }
    if (redisKeys.length === 0) return { allowed: true, remaining: Number.MAX_SAFE_INTEGER, retryAfterMs: 0 };
    const reply = await TAKE_ALL.run(this.#client, redisKeys, argv);
    if (!Array.isArray(reply) || reply.length !== 3) throw new RedisStoreError('INTERNAL', 'unexpected reply from the scoped bucket script');
    const [allowed, remaining, retryAfterMs] = reply as number[];
    return { allowed: allowed === 1, remaining, retryAfterMs };
  }
}
