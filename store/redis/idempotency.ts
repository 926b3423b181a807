import type { RedisConnection } from './connection.js';
import { errorMessage } from './errors.js';
import { ExpiringLru } from './expiring_lru.js';
import { LuaScript } from './lua_script.js';
import type { StoreLogger } from './types.js';
import { requireKey, requirePositiveInt, requirePrefix } from './validate.js';

/** `fresh`: this caller owns the key and starts the run. Otherwise `runId` is set once the owner completed. */
export type ClaimResult = { fresh: true } | { fresh: false; runId?: string };

export interface IdempotencyOptions {
  /** Prepended to every key. Default `troupe:idem:`. */
  prefix?: string;
  /** Most claims remembered in process while Redis is down. Default 10000. */
  fallbackMaxEntries?: number;
  /** Upper bound for a claim's ttl. Default 7 days. */
  maxTtlMs?: number;
  logger?: StoreLogger;
}

export interface IdempotencyStats {
  /** Claims decided in process because Redis was down. */
  fallbackClaims: number;
  redisErrors: number;
}

/** The value of a claimed key before its run is known. */
const PENDING = '';

/* Claim and read in one step: a retry that loses the race still learns the runId. */
const CLAIM = new LuaScript(`
if redis.call('SET', KEYS[1], '', 'NX', 'PX', ARGV[1]) then
  return {1}
end
return {0, redis.call('GET', KEYS[1])}
`);

/* Only an unfinished claim may be released; a completed run stays recorded. */
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == '' then
  return redis.call('DEL', KEYS[1])
end
return 0
`);

const COMPLETE = new LuaScript(`
return redis.call('SET', KEYS[1], ARGV[1], 'XX', 'KEEPTTL')
`);

/**
 * Idempotency keys for `chat.send`: the first claim of (tenant, key) wins and
 * starts the run; retries with the same key get `fresh: false` and, once the
 * winner called `complete`, its runId.
 *
 * With Redis down, claims are kept in a bounded in-process map. That guarantee
 * is weaker: it holds only for retries that reach the same process, claims made
 * in Redis before the outage are not seen, and the oldest entries are evicted
 * when the map is full. Claims made in process are still honoured after Redis
 * returns, until they expire.
 */
export class IdempotencyStore {
  readonly stats: IdempotencyStats = { fallbackClaims: 0, redisErrors: 0 };
  readonly #connection: RedisConnection;
  readonly #prefix: string;
  readonly #maxTtlMs: number;
  readonly #local: ExpiringLru<string>;
  readonly #logger: StoreLogger;

  constructor(connection: RedisConnection, options: IdempotencyOptions = {}) {
    this.#connection = connection;
    this.#prefix = requirePrefix(options.prefix ?? 'troupe:idem:');
    this.#maxTtlMs = requirePositiveInt('maxTtlMs', options.maxTtlMs ?? 7 * 24 * 3600 * 1000, 2 ** 31);
    this.#local = new ExpiringLru(requirePositiveInt('fallbackMaxEntries', options.fallbackMaxEntries ?? 10_000, 10_000_000));
    this.#logger = options.logger ?? connection.logger;
  }

  /** The Redis key for (tenant, key); both parts are escaped so `:` cannot make two pairs collide. */
  keyFor(tenant: string, key: string): string {
    return `${this.#prefix}${encodeURIComponent(tenant)}:${encodeURIComponent(key)}`;
  }

  async claim(tenant: string, key: string, ttlMs: number): Promise<ClaimResult> {
    const redisKey = this.#validKey(tenant, key);
    requirePositiveInt('ttlMs', ttlMs, this.#maxTtlMs);
    const local = this.#local.get(redisKey);
    if (local !== undefined) return notFresh(local);
    const reply = await this.#tryRedis(() => CLAIM.run(this.#connection.client, [redisKey], [ttlMs]));
    if (!Array.isArray(reply)) return this.#claimLocally(redisKey, ttlMs);
    if (reply[0] === 1) return { fresh: true };
    return notFresh(typeof reply[1] === 'string' ? reply[1] : PENDING);
  }

  /** Records the run started for a claim. False when the claim is gone (expired or released). */
  async complete(tenant: string, key: string, runId: string): Promise<boolean> {
    const redisKey = this.#validKey(tenant, key);
    requireKey('runId', runId);
    const locally = this.#local.replace(redisKey, runId);
    const reply = await this.#tryRedis(() => COMPLETE.run(this.#connection.client, [redisKey], [runId]));
    return locally || reply === 'OK';
  }

  /** Gives up an unfinished claim (the run could not start) so a retry may start it. */
  async release(tenant: string, key: string): Promise<void> {
    const redisKey = this.#validKey(tenant, key);
    if (this.#local.get(redisKey) === PENDING) this.#local.delete(redisKey);
    await this.#tryRedis(() => RELEASE.run(this.#connection.client, [redisKey], []));
  }

  #validKey(tenant: string, key: string): string {
    return this.keyFor(requireKey('tenant', tenant), requireKey('key', key));
  }

  #claimLocally(redisKey: string, ttlMs: number): ClaimResult {
    this.stats.fallbackClaims++;
    this.#local.set(redisKey, PENDING, ttlMs);
    return { fresh: true };
  }

  /** Runs a Redis call; undefined when Redis is down or the call failed. */
  async #tryRedis(call: () => Promise<unknown>): Promise<unknown> {
    if (this.#connection.health !== 'up') return undefined;
    try {
      return await call();
    } catch (err) {
      this.stats.redisErrors++;
      this.#logger.warn('idempotency store fell back to in-process claims', { error: errorMessage(err) });
      return undefined;
    }
  }
}

function notFresh(value: string): ClaimResult {
  return value === PENDING ? { fresh: false } : { fresh: false, runId: value };
}
