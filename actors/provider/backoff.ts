/**
 * Exponential backoff with jitter, honouring an upstream's Retry-After.
 *
 * The ceiling for retry `attempt` (0 for the first retry) is
 * min(maxMs, baseMs × 2^attempt); `jitter` (0..1) is the share of it that is
 * randomised away, so 1 is "full jitter" (uniform in [0, ceiling]) and 0 is
 * none. Jitter spreads the retries of many callers that failed together. When
 * the upstream said Retry-After, the delay is never shorter than that.
 */
import { nonNegative } from './validate.js';

export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  /** 0..1; default 0.5. */
  readonly jitter?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { baseMs: 250, maxMs: 8_000, jitter: 0.5 };

export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const base = nonNegative(options.baseMs, 'baseMs');
  const max = nonNegative(options.maxMs, 'maxMs');
  const jitter = options.jitter ?? DEFAULT_BACKOFF.jitter;
  if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`jitter must be within 0..1, got ${jitter}`);
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 30);
  const ceiling = Math.min(max, base * 2 ** exponent);
  const delay = Math.round(ceiling * (1 - jitter * random()));
  return retryAfterMs !== undefined && retryAfterMs > delay ? Math.ceil(retryAfterMs) : delay;
}
