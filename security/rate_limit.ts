/**
 * In-process token buckets. A bucket holds up to `capacity` tokens and gains `refillPerSec`
 * tokens per second; a request costing `cost` passes when that many tokens are present.
 *
 * Buckets live in a Map used as an LRU list (Map keeps insertion order; a touched key is
 * re-inserted at the back):
 *
 *   front (least recently used) ──► ... ──► back (most recent)
 *
 * A key already at the back is left where it is: moving it would change nothing, and each
 * delete + set of a Map entry spends a slot of its hash table, so a Map whose few keys are
 * touched over and over (one tenant, one user, one IP) re-hashes on nearly every request,
 * and a long-lived Map re-hashes into the old generation, garbage for the major GC.
 *
 * When `maxKeys` is exceeded the front entry is dropped. Dropping a bucket is the same as
 * refilling it, which is harmless for a full bucket and, for an idle one, errs toward
 * letting that key through. That is the price of bounded memory; size `maxKeys` above the
 * number of keys active within one refill period.
 */
import { SecurityError } from './errors.js';
import type { RateDecision, RateLimiter } from './types.js';

export interface TokenBucketOptions {
  capacity: number;
  refillPerSec: number;
  /** Most buckets kept at once. Default 10 000. */
  maxKeys?: number;
  /** Clock in ms; injectable for tests. Default Date.now. */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** A limiter whose state can be inspected without consuming (what CompositeLimiter needs). */
export interface PeekableRateLimiter extends RateLimiter {
  peek(key: string, cost?: number): Promise<RateDecision>;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new SecurityError('INVALID_REQUEST', 'bad_config', `${name} must be a positive number`);
  }
  return value;
}

export class TokenBucketLimiter implements PeekableRateLimiter {
  readonly capacity: number;
  readonly refillPerSec: number;
  readonly maxKeys: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();
  /** The key at the back of #buckets (the most recently used). */
  #newest: string | undefined;

  constructor(opts: TokenBucketOptions) {
    this.capacity = positive('capacity', opts.capacity);
    this.refillPerSec = positive('refillPerSec', opts.refillPerSec);
    this.maxKeys = Math.floor(positive('maxKeys', opts.maxKeys ?? 10_000));
    this.#now = opts.now ?? Date.now;
  }

  /** Buckets currently held (bounded by maxKeys). */
  get size(): number {
    return this.#buckets.size;
  }

  async take(key: string, cost = 1): Promise<RateDecision> {
    return this.decide(key, cost, true);
  }

  async peek(key: string, cost = 1): Promise<RateDecision> {
    return this.decide(key, cost, false);
  }

  /** Synchronous core, shared by take and peek. */
  decide(key: string, cost: number, consume: boolean): RateDecision {
    if (!Number.isFinite(cost) || cost <= 0 || cost > this.capacity) {
      throw new SecurityError('INVALID_REQUEST', 'bad_cost', `cost must be in (0, ${this.capacity}]`);
    }
    const now = this.#now();
    const bucket = this.#refilled(key, now);
    if (bucket.tokens >= cost) {
      if (consume) bucket.tokens -= cost;
      return { allowed: true, remaining: Math.floor(bucket.tokens - (consume ? 0 : cost)), retryAfterMs: 0 };
    }
    const deficit = cost - bucket.tokens;
    // The tiny epsilon keeps float noise (e.g. 0.30000000000000004) from adding a whole ms.
    const retryAfterMs = Math.max(1, Math.ceil((deficit * 1000) / this.refillPerSec - 1e-9));
    return { allowed: false, remaining: Math.floor(bucket.tokens), retryAfterMs };
  }

  #refilled(key: string, now: number): Bucket {
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.capacity, updatedMs: now };
      this.#buckets.set(key, bucket);
      this.#newest = key;
      if (this.#buckets.size > this.maxKeys) this.#evict();
      return bucket;
    }
    const elapsedMs = Math.max(0, now - bucket.updatedMs);
    bucket.tokens = Math.min(this.capacity, bucket.tokens + (elapsedMs * this.refillPerSec) / 1000);
    bucket.updatedMs = now;
    if (key !== this.#newest) {
      this.#buckets.delete(key);
      this.#buckets.set(key, bucket);
      this.#newest = key;
    }
    return bucket;
  }

  /**
   * Drops the least recently used bucket. It has been idle longest, so it is also the one
   * most likely to have refilled completely, in which case nothing is lost by dropping it.
   */
  #evict(): void {
    while (this.#buckets.size > this.maxKeys) {
      const oldest = this.#buckets.keys().next().value as string;
      this.#buckets.delete(oldest);
    }
  }

  async close(): Promise<void> {
    this.#buckets.clear();
    this.#newest = undefined;
  }
}

export interface CompositeDecision extends RateDecision {
  /** The scope that decided: the denying one, or the one with the fewest tokens left. */
  scope?: string;
}

/**
 * Several limits on one request, e.g. `{ tenant: 'acme', user: 'acme:alice', ip: '1.2.3.4' }`.
 *
 * Choice: check every scope first (peek), and consume from all only when all allow. A request
 * denied by the user limit therefore does not eat into the tenant's budget. When several
 * deny, the answer is the most restrictive one (the longest retryAfterMs). Scopes whose key
 * is absent from the request are skipped. Between the peek and the take another request may
 * win the last tokens; then that take's denial is returned and the takes already made stay
 * spent (the error falls on the side of limiting).
 */
export class CompositeLimiter {
  readonly #limiters: ReadonlyArray<readonly [string, PeekableRateLimiter]>;
  /** The same limiters when every one is an in-process bucket, which decides without waiting. */
  readonly #buckets: ReadonlyArray<readonly [string, TokenBucketLimiter]> | undefined;

  constructor(limiters: Record<string, PeekableRateLimiter>) {
    this.#limiters = Object.entries(limiters);
    this.#buckets = this.#limiters.every(([, l]) => l instanceof TokenBucketLimiter)
      ? this.#limiters as ReadonlyArray<readonly [string, TokenBucketLimiter]>
      : undefined;
  }

  /**
   * `take`'s decision at once when every scope is an in-process bucket (no promise, no
   * await; the peeks and takes cannot interleave with another request's), undefined otherwise.
   */
  takeNow(keys: Partial<Record<string, string>>, cost = 1): CompositeDecision | undefined {
    const buckets = this.#buckets;
    if (buckets === undefined) return undefined;
    let denied: CompositeDecision | undefined;
    for (const [scope, l] of buckets) {
      const key = keys[scope];
      if (key === undefined) continue;
      const d = l.decide(key, cost, false);
      if (!d.allowed && (denied === undefined || d.retryAfterMs > denied.retryAfterMs)) denied = { ...d, scope };
    }
    if (denied !== undefined) return denied;
    let tightest: CompositeDecision = { allowed: true, remaining: Number.MAX_SAFE_INTEGER, retryAfterMs: 0 };
    for (const [scope, l] of buckets) {
      const key = keys[scope];
      if (key === undefined) continue;
      const d = l.decide(key, cost, true);
      if (!d.allowed) return { ...d, scope };
      if (d.remaining < tightest.remaining) tightest = { ...d, scope };
    }
    return tightest;
  }

  async take(keys: Partial<Record<string, string>>, cost = 1): Promise<CompositeDecision> {
    const now = this.takeNow(keys, cost);
    if (now !== undefined) return now;
    const applicable = this.#limiters.filter(([scope]) => keys[scope] !== undefined);
    const peeks = await Promise.all(applicable.map(([scope, l]) => l.peek(keys[scope] as string, cost)));
    const denied = peeks.map((d, i) => ({ ...d, scope: applicable[i][0] })).filter((d) => !d.allowed);
    if (denied.length > 0) return denied.reduce((a, b) => (b.retryAfterMs > a.retryAfterMs ? b : a));

    let tightest: CompositeDecision = { allowed: true, remaining: Number.MAX_SAFE_INTEGER, retryAfterMs: 0 };
    for (const [scope, limiter] of applicable) {
      const decision = await limiter.take(keys[scope] as string, cost);
      if (!decision.allowed) return { ...decision, scope };
      if (decision.remaining < tightest.remaining) tightest = { ...decision, scope };
    }
    return tightest;
  }

  async close(): Promise<void> {
    await Promise.all(this.#limiters.map(([, l]) => l.close?.()));
  }
}
