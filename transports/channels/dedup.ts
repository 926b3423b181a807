/**
 * Inbound dedup: platforms redeliver (Slack after 3 s, Telegram until it gets
 * a 200), so each event id is processed once. In-process, a bounded LRU with
 * a TTL; with Redis, `SET NX PX` so every gateway behind the load balancer
 * sees the same ids. A Redis that fails falls back to the local LRU (one
 * gateway still never processes an event twice).
 */
import { ExpiringLru } from '../../store/redis/expiring_lru.js';
import type { RedisConnection } from '../../store/redis/index.js';

export interface Deduper {
  /** True the first time `key` is seen within the TTL; false for a redelivery. */
  firstSeen(key: string): Promise<boolean>;
}

const TTL_MS = 24 * 3600_000;

export class LocalDeduper implements Deduper {
  readonly #seen: ExpiringLru<true>;

  constructor(maxEntries = 100_000, private readonly ttlMs = TTL_MS) {
    this.#seen = new ExpiringLru(maxEntries);
  }

  firstSeen(key: string): Promise<boolean> {
    if (this.#seen.get(key) === true) return Promise.resolve(false);
    this.#seen.set(key, true, this.ttlMs);
    return Promise.resolve(true);
  }
}

export class RedisDeduper implements Deduper {
  readonly #local = new LocalDeduper();

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix = 'troupe:chan:seen:',
    private readonly ttlMs = TTL_MS,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  async firstSeen(key: string): Promise<boolean> {
    const local = await this.#local.firstSeen(key);
    if (!local) return false;
    try {
      return (await this.redis.client.set(this.prefix + key, '1', 'PX', this.ttlMs, 'NX')) === 'OK';
    } catch (err) {
      this.onError(err);
      return true;
    }
  }
}
