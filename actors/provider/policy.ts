/**
 * What to do after a failed attempt, decided on the ProviderError kind alone:
 * retry the same entry, fail over to the next entry of the chain, or give up
 * and report the error. Nothing is retried or failed over once the first token
 * reached the caller: a half-streamed reply cannot be taken back.
 */
import type { ProviderErrorKind } from '../../providers/index.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';

export interface RetryOptions extends BackoffOptions {
  /** Retries on the same entry before failing over. Default 2. */
  readonly maxRetries?: number;
  /** A Retry-After longer than this is not waited for: fail over instead. Default 10 s. */
  readonly maxRetryAfterMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = { ...DEFAULT_BACKOFF, maxRetries: 2, maxRetryAfterMs: 10_000 };

/** Kinds worth sending again to the same upstream after a pause. */
export const RETRY_KINDS: ReadonlySet<ProviderErrorKind> = new Set(['rate_limited', 'overloaded', 'timeout', 'network']);

/**
 * Kinds worth sending to the next entry: another upstream may be healthy, and
 * another credential may be valid. context_overflow only fails over to an
 * entry with a larger context window (see `failoverTarget`).
 */
export const FAILOVER_KINDS: ReadonlySet<ProviderErrorKind> = new Set([
  'rate_limited', 'overloaded', 'timeout', 'network', 'auth', 'context_overflow',
]);

export type Decision =
  | { readonly action: 'retry'; readonly delayMs: number }
  | { readonly action: 'failover' }
  | { readonly action: 'fail' };

export interface FailedAttempt {
  readonly kind: ProviderErrorKind;
  readonly retryAfterMs?: number;
  /** Retries already made on this entry. */
  readonly retries: number;
  /** Whether any text or tool call reached the caller. */
  readonly streamed: boolean;
  /** Whether a later entry in the chain can take this kind. */
  readonly canFailOver: boolean;
}

export function decide(failed: FailedAttempt, options: RetryOptions = DEFAULT_RETRY, random?: () => number): Decision {
  if (failed.streamed || failed.kind === 'aborted') return { action: 'fail' };
  const maxRetries = options.maxRetries ?? DEFAULT_RETRY.maxRetries;
  const maxWait = options.maxRetryAfterMs ?? DEFAULT_RETRY.maxRetryAfterMs;
  const waitTooLong = failed.retryAfterMs !== undefined && failed.retryAfterMs > maxWait;
  if (RETRY_KINDS.has(failed.kind) && failed.retries < maxRetries && !waitTooLong) {
    return { action: 'retry', delayMs: backoffDelay(failed.retries, options, failed.retryAfterMs, random) };
  }
  if (failed.canFailOver && FAILOVER_KINDS.has(failed.kind)) return { action: 'failover' };
  return { action: 'fail' };
}

/** The chain entry shape the policy needs to pick a failover target. */
export interface ContextSized {
  /** The model's context window in tokens, when known. */
  readonly contextTokens?: number;
}

/**
 * The index of the entry to fail over to after `from` failed with `kind`, or
 * -1. A context overflow skips entries that are not strictly larger.
 */
export function failoverTarget(chain: readonly ContextSized[], from: number, kind: ProviderErrorKind): number {
  if (!FAILOVER_KINDS.has(kind)) return -1;
  if (kind !== 'context_overflow') return from + 1 < chain.length ? from + 1 : -1;
  const size = chain[from]?.contextTokens;
  if (size === undefined) return -1;
  for (let i = from + 1; i < chain.length; i++) {
    const next = chain[i].contextTokens;
    if (next !== undefined && next > size) return i;
  }
  return -1;
}
