/**
 * Refusals by a provider actor before any upstream request: the breaker is
 * open, the upstream asked for a pause (a 429 with Retry-After), the wait
 * queue is full, or the wait took too long. They are
 * ProviderErrors so the failover policy treats them like upstream trouble
 * (an open breaker reads as `overloaded` and fails over), while `reason`
 * lets metrics and logs tell them apart from real upstream failures.
 */
import { ProviderError, type ProviderErrorKind } from '../../providers/index.js';
import type { RejectReason } from './metrics.js';

const KINDS: Record<RejectReason, ProviderErrorKind> = {
  circuit_open: 'overloaded',
  rate_paused: 'rate_limited',
  queue_full: 'overloaded',
  queue_timeout: 'timeout',
};

export class AdmissionError extends ProviderError {
  readonly reason: RejectReason;

  constructor(reason: RejectReason, provider: string, message: string, retryAfterMs?: number) {
    super(KINDS[reason], provider, message, retryAfterMs === undefined ? {} : { retryAfterMs });
    this.reason = reason;
  }
}

/** An unknown provider id in a chain, or a chain that cannot run at all. */
export class ChainConfigError extends Error {
  override readonly name = 'ChainConfigError';
  readonly code = 'INVALID_REQUEST';
}
