/**
 * Where usage budgets count what has been spent: one number per key (scope,
 * subject, unit and period), living until its period ends.
 *
 * In Redis (INCRBYFLOAT + PEXPIREAT in one MULTI) every gateway shares the
 * counts; in process (the default, and while Redis is down) they hold for this
 * process only. Counts made in process while Redis was down are not carried
 * over when it comes back: a budget is then briefly under-counted, never over.
 */
import { ExpiringLru } from './expiring_lru.js';
import type { RedisConnection } from './connection.js';

export interface BudgetCounter {
  get(keys: readonly string[]): Promise<number[]>;
  /** Adds each amount; a key lives until `expiresAt` (epoch ms). */
  add(entries: readonly BudgetCharge[]): Promise<void>;
}

export interface BudgetCharge {
  key: string;
  amount: number;
  expiresAt: number;
}

const MAX_LOCAL_KEYS = 100_000;

/** One process's counts, bounded (the least recently used key goes first). */
export class LocalBudgetCounter implements BudgetCounter {
  readonly #spent = new ExpiringLru<number>(MAX_LOCAL_KEYS);

  async get(keys: readonly string[]): Promise<number[]> {
    return keys.map((k) => this.#spent.get(k) ?? 0);
  }

  async add(entries: readonly BudgetCharge[]): Promise<void> {
    const now = Date.now();
    for (const { key, amount, expiresAt } of entries) {
      const spent = this.#spent.get(key, now);
      if (spent === undefined) this.#spent.set(key, amount, expiresAt - now, now);
      else this.#spent.replace(key, spent + amount, now);
    }
  }
}

/** Counts in Redis, shared by every gateway; in `local` while Redis is down or failing. */
export class RedisBudgetCounter implements BudgetCounter {
  constructor(
    private readonly redis: RedisConnection,
    private readonly local: BudgetCounter = new LocalBudgetCounter(),
    private readonly prefix = 'troupe:budget:',
  ) {}

  async get(keys: readonly string[]): Promise<number[]> {
    if (keys.length === 0) return [];
    if (this.redis.health !== 'up') return this.local.get(keys);
    try {
      const values = await this.redis.client.mget(...keys.map((k) => this.prefix + k));
      return values.map((v) => (v === null ? 0 : Number(v)));
    } catch {
      return this.local.get(keys);
    }
  }

  async add(entries: readonly BudgetCharge[]): Promise<void> {
    if (entries.length === 0) return;
    if (this.redis.health !== 'up') return this.local.add(entries);
    try {
      const tx = this.redis.client.multi();
      for (const { key, amount, expiresAt } of entries) {
        tx.incrbyfloat(this.prefix + key, amount);
        tx.pexpireat(this.prefix + key, expiresAt);
      }
      await tx.exec();
    } catch {
      await this.local.add(entries);
    }
  }
}
