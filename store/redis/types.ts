/**
 * Local contracts for the Redis layer. store/ must not import security/, so the
 * limiter contract is declared here with the same shape as security/types.ts;
 * a compile-time test assigns one to the other to keep them in step.
 */

export interface RateDecision {
  allowed: boolean;
  /** Whole tokens left in the bucket after this decision. */
  remaining: number;
  /** When not allowed: how long until `cost` tokens are available. 0 when allowed. */
  retryAfterMs: number;
}

/** A token-bucket limiter keyed by an opaque string (e.g. `tenant:acme`). */
export interface RateLimiter {
  take(key: string, cost?: number): Promise<RateDecision>;
  close?(): Promise<void>;
}

/** The smallest logger the layer needs; pino, console wrappers and test spies all fit. */
export interface StoreLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export type RedisHealth = 'up' | 'down';

/** Writes one line per event to stderr; used when the caller passes no logger. */
export const consoleLogger: StoreLogger = {
  info: (message, fields) => console.error(JSON.stringify({ level: 'info', message, ...fields })),
  warn: (message, fields) => console.error(JSON.stringify({ level: 'warn', message, ...fields })),
};
