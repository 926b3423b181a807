/**
 * A rate limit as a token bucket: `limit` units per `windowMs`, refilled
 * continuously, so a full bucket allows a burst of `limit` and then one unit
 * every `windowMs / limit`. One bucket counts requests (RPM), another tokens
 * (TPM). O(1) memory whatever the limit, and no timers: callers ask how long
 * to wait and schedule their own wake-up.
 *
 * Tokens are only known after a reply, so admission takes an estimate and
 * `settle` later charges the difference; the level may go below zero (a debt
 * that delays the next admissions) but never above `limit`.
 */
import { positive } from './validate.js';

export interface RateOptions {
  readonly limit: number;
  /** Default 60 000 (per minute). */
  readonly windowMs?: number;
}

export const DEFAULT_RATE_WINDOW_MS = 60_000;

export class RateWindow {
  readonly limit: number;
  readonly windowMs: number;
  private level: number;
  private stamp: number;

  constructor(options: RateOptions, private readonly now: () => number = Date.now) {
    this.limit = positive(options.limit, 'limit');
    this.windowMs = positive(options.windowMs ?? DEFAULT_RATE_WINDOW_MS, 'windowMs');
    this.level = this.limit;
    this.stamp = now();
  }

  /** Units available now (negative while in debt). */
  get available(): number {
    this.refill();
    return this.level;
  }

  /**
   * Milliseconds until `amount` units are available; 0 means now. An amount
   * above the limit is treated as the limit, so it waits for a full bucket
   * rather than forever.
   */
  waitMs(amount: number): number {
    this.refill();
    const need = Math.min(amount, this.limit);
    if (this.level >= need) return 0;
    return Math.ceil(((need - this.level) * this.windowMs) / this.limit);
  }

  /** Takes `amount` units if available now; returns whether it did. */
  tryTake(amount: number): boolean {
    if (this.waitMs(amount) > 0) return false;
    this.level -= amount;
    return true;
  }

  /** Charges (positive) or refunds (negative) the difference once the real amount is known. */
  settle(delta: number): void {
    this.refill();
    this.level = Math.min(this.limit, this.level - delta);
  }

  private refill(): void {
    const now = this.now();
    const elapsed = now - this.stamp;
    this.stamp = now;
    if (elapsed > 0) this.level = Math.min(this.limit, this.level + (elapsed * this.limit) / this.windowMs);
  }
}
