import type { Redis } from 'ioredis';
import type { RedisConnection } from './connection.js';
import { errorMessage, RedisStoreError } from './errors.js';
import { ExpiringLru } from './expiring_lru.js';
import type { StoreLogger } from './types.js';
import { requireKey, requirePositiveInt, requirePrefix } from './validate.js';

export interface RedisCacheOptions<V> {
  /** What is cached, e.g. `apikey` or `agent`; part of every key. [a-z0-9_-]{1,32}. */
  namespace: string;
  /** Lifetime of an entry in Redis. */
  ttlMs: number;
  /**
   * Lifetime of the in-process copy. It bounds how stale a process can be when
   * an invalidation message cannot reach it (Redis down). Default min(ttlMs, 5000).
   */
  l1TtlMs?: number;
  /** Most entries kept in process. Default 1000. */
  l1MaxEntries?: number;
  /** Prepended to keys and to the invalidation channel. Default `troupe:cache:`. */
  prefix?: string;
  /** Checks a value read back from Redis; throw to treat it as a miss. Default: trust it. */
  decode?: (raw: unknown) => V;
  logger?: StoreLogger;
}

/** Loads the authoritative value (e.g. from PostgreSQL); undefined when there is none. */
export type CacheLoader<V> = (key: string) => Promise<V | undefined>;

export interface RedisCacheStats {
  l1Hits: number;
  redisHits: number;
  loads: number;
  redisErrors: number;
  invalidationsReceived: number;
}

const NAMESPACE_PATTERN = /^[a-z0-9_-]{1,32}$/;
const MAX_TTL_MS = 7 * 24 * 3600 * 1000;
/** Invalidations that could not reach Redis wait for it to return, up to this many. */
const MAX_PENDING_INVALIDATIONS = 10_000;

/**
 * A read-through cache in two levels: a small LRU in this process (L1) in front
 * of Redis (L2) in front of the loader. `invalidate` drops the key here, in
 * Redis, and, through a pub/sub message, in the L1 of every other process.
 *
 * With Redis down it keeps working as loader + L1; invalidations made meanwhile
 * are replayed to Redis when it returns, and every resubscribe clears L1 since
 * messages may have been missed while the subscriber was away.
 */
export class RedisCache<V> {
  readonly stats: RedisCacheStats = { l1Hits: 0, redisHits: 0, loads: 0, redisErrors: 0, invalidationsReceived: 0 };
  readonly namespace: string;
  readonly #connection: RedisConnection;
  readonly #subscriber: Redis;
  readonly #channel: string;
  readonly #keyPrefix: string;
  readonly #ttlMs: number;
  readonly #l1TtlMs: number;
  readonly #l1: ExpiringLru<V>;
  readonly #decode: (raw: unknown) => V;
  readonly #logger: StoreLogger;
  readonly #inflight = new Map<string, Promise<V | undefined>>();
  readonly #pending = new Set<string>();
  readonly #subscribedWaiters = new Set<() => void>();
  readonly #offHealth: () => void;
  /** Bumped by every invalidation; a load that started before it must not be cached. */
  #epoch = 0;
  #subscribed = false;
  #closed = false;

  constructor(connection: RedisConnection, options: RedisCacheOptions<V>) {
    if (typeof options.namespace !== 'string' || !NAMESPACE_PATTERN.test(options.namespace)) {
      throw new RedisStoreError('INVALID_REQUEST', 'namespace must match [a-z0-9_-]{1,32}');
    }
    this.namespace = options.namespace;
    this.#ttlMs = requirePositiveInt('ttlMs', options.ttlMs, MAX_TTL_MS);
    this.#l1TtlMs = requirePositiveInt('l1TtlMs', options.l1TtlMs ?? Math.min(this.#ttlMs, 5000), this.#ttlMs);
    this.#l1 = new ExpiringLru(requirePositiveInt('l1MaxEntries', options.l1MaxEntries ?? 1000, 1_000_000));
    const prefix = requirePrefix(options.prefix ?? 'troupe:cache:');
    this.#keyPrefix = `${prefix}${this.namespace}:`;
    this.#channel = `${prefix}invalidate`;
    this.#decode = options.decode ?? ((raw) => raw as V);
    this.#logger = options.logger ?? connection.logger;
    this.#connection = connection;
    this.#subscriber = connection.duplicate();
    this.#subscriber.on('ready', () => this.#subscribe());
    this.#subscriber.on('close', () => {
      this.#subscribed = false;
    });
    this.#subscriber.on('message', (channel: string, message: string) => this.#onMessage(channel, message));
    this.#offHealth = connection.onHealthChange((health) => {
      if (health === 'up') void this.#replayPending();
    });
  }

  /** True while this process hears other processes' invalidations. */
  get subscribed(): boolean {
    return this.#subscribed;
  }

  /** The Redis key holding `key`. */
  keyFor(key: string): string {
    return this.#keyPrefix + key;
  }

  /** Resolves true once subscribed to invalidations, false if `timeoutMs` passes first. */
  waitUntilSubscribed(timeoutMs: number): Promise<boolean> {
    if (this.#subscribed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#subscribedWaiters.delete(done);
        resolve(this.#subscribed);
      };
      const timer = setTimeout(done, timeoutMs);
      this.#subscribedWaiters.add(done);
    });
  }

  /**
   * The value for `key` from L1, else Redis, else `loader` (whose result is then
   * stored in both). Concurrent calls for one key share one load. Undefined
   * results are not cached. Loader errors reach the caller.
   */
  get(key: string, loader: CacheLoader<V>): Promise<V | undefined> {
    requireKey('key', key);
    const hit = this.#l1.get(key);
    if (hit !== undefined) {
      this.stats.l1Hits++;
      return Promise.resolve(hit);
    }
    const inflight = this.#inflight.get(key);
    if (inflight !== undefined) return inflight;
    const load = this.#fill(key, loader).finally(() => {
      if (this.#inflight.get(key) === load) this.#inflight.delete(key);
    });
    this.#inflight.set(key, load);
    return load;
  }

  /** Drops `key` everywhere. Never fails because Redis is down: the drop is replayed later. */
  async invalidate(key: string): Promise<void> {
    requireKey('key', key);
    this.#dropLocal(key);
    if (!(await this.#invalidateRemote(key))) this.#remember(key);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#offHealth();
    this.#subscriber.disconnect();
    this.#l1.clear();
    for (const wake of [...this.#subscribedWaiters]) wake();
  }

  async #fill(key: string, loader: CacheLoader<V>): Promise<V | undefined> {
    const epoch = this.#epoch;
    const cached = await this.#readRedis(key);
    if (cached !== undefined) {
      this.stats.redisHits++;
      if (epoch === this.#epoch) this.#l1.set(key, cached, this.#l1TtlMs);
      return cached;
    }
    this.stats.loads++;
    const loaded = await loader(key);
    if (loaded === undefined || epoch !== this.#epoch) return loaded;
    this.#l1.set(key, loaded, this.#l1TtlMs);
    await this.#writeRedis(key, loaded);
    return loaded;
  }

  async #readRedis(key: string): Promise<V | undefined> {
    if (this.#connection.health !== 'up') return undefined;
    try {
      const raw = await this.#connection.client.get(this.keyFor(key));
      return raw === null ? undefined : this.#decode(JSON.parse(raw));
    } catch (err) {
      this.#countError('cache read failed; using the loader', err);
      return undefined;
    }
  }

  async #writeRedis(key: string, value: V): Promise<void> {
    if (this.#connection.health !== 'up') return;
    try {
      await this.#connection.client.set(this.keyFor(key), JSON.stringify(value), 'PX', this.#ttlMs);
    } catch (err) {
      this.#countError('cache write failed', err);
    }
  }

  async #invalidateRemote(key: string): Promise<boolean> {
    if (this.#connection.health !== 'up') return false;
    try {
      const client = this.#connection.client;
      await client.del(this.keyFor(key));
      await client.publish(this.#channel, JSON.stringify({ ns: this.namespace, key }));
      return true;
    } catch (err) {
      this.#countError('cache invalidation did not reach redis; will replay', err);
      return false;
    }
  }

  #remember(key: string): void {
    this.#pending.delete(key);
    this.#pending.add(key);
    if (this.#pending.size <= MAX_PENDING_INVALIDATIONS) return;
    const oldest = this.#pending.values().next();
    if (oldest.done !== true) this.#pending.delete(oldest.value);
    this.#logger.warn('cache invalidation backlog full; oldest dropped, it expires by ttl', {
      namespace: this.namespace,
    });
  }

  async #replayPending(): Promise<void> {
    for (const key of [...this.#pending]) {
      if (this.#closed || !(await this.#invalidateRemote(key))) return;
      this.#pending.delete(key);
    }
  }

  #dropLocal(key: string): void {
    this.#epoch++;
    this.#l1.delete(key);
    this.#inflight.delete(key);
  }

  #subscribe(): void {
    this.#subscriber
      .subscribe(this.#channel)
      .then(() => {
        // Invalidations sent while we were not listening are lost: forget
        // everything rather than serve what they would have dropped.
        this.#epoch++;
        this.#l1.clear();
        this.#subscribed = true;
        for (const wake of [...this.#subscribedWaiters]) wake();
      })
      .catch((err: unknown) => this.#countError('cache subscribe failed; retried on reconnect', err));
  }

  #onMessage(channel: string, message: string): void {
    if (channel !== this.#channel) return;
    const parsed = parseInvalidation(message);
    if (parsed === undefined || parsed.ns !== this.namespace) return;
    this.stats.invalidationsReceived++;
    this.#dropLocal(parsed.key);
  }

  #countError(message: string, err: unknown): void {
    this.stats.redisErrors++;
    this.#logger.warn(message, { namespace: this.namespace, error: errorMessage(err) });
  }
}

function parseInvalidation(message: string): { ns: string; key: string } | undefined {
  try {
    const value: unknown = JSON.parse(message);
    if (typeof value !== 'object' || value === null) return undefined;
    const { ns, key } = value as Record<string, unknown>;
    return typeof ns === 'string' && typeof key === 'string' ? { ns, key } : undefined;
  } catch {
    return undefined;
  }
}
