/**
 * Errors the kernel raises. Each carries a stable `code` from the project's
 * catalogue (the front door maps codes to wire errors and HTTP statuses) and a
 * `retryable` flag, so callers can decide without string matching.
 */

export type RuntimeErrorCode = 'TIMEOUT' | 'OVERLOADED' | 'UNAVAILABLE' | 'NOT_FOUND' | 'INTERNAL' | 'INVALID_REQUEST';

export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode;
  readonly retryable: boolean;
  /** A finer, machine-readable reason within the code (e.g. `mailbox_full`). */
  readonly reason: string;
  /** The request field at fault, when a remote error named one (kept across the thread hop for the caller). */
  readonly field?: string;

  constructor(code: RuntimeErrorCode, reason: string, message: string, retryable: boolean, options?: { cause?: unknown; field?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.reason = reason;
    this.retryable = retryable;
    if (options?.field !== undefined) this.field = options.field;
  }
}

/** An `ask` got no reply within its timeout. */
export class AskTimeoutError extends RuntimeError {
  constructor(readonly timeoutMs: number, target: string) {
    super('TIMEOUT', 'ask_timeout', `ask to ${target} timed out after ${timeoutMs} ms`, true);
  }
}

/** The target's mailbox is full and its overflow policy is `reject`. */
export class MailboxFullError extends RuntimeError {
  constructor(target: string, readonly capacity: number) {
    super('OVERLOADED', 'mailbox_full', `mailbox of ${target} is full (capacity ${capacity})`, true);
  }
}

/**
 * The link to another thread has `maxQueued` messages sent and not yet taken
 * by that thread (link.ts): it is not reading fast enough. Retry after a pause.
 */
export class LinkFullError extends RuntimeError {
  /** A hint for clients (the front door passes it on as `retryAfterMs`). */
  readonly retryAfterMs: number;

  constructor(host: number, maxQueued: number, retryAfterMs = LINK_RETRY_AFTER_MS) {
    super('OVERLOADED', 'link_full', `host ${host} has ${maxQueued} messages waiting to be read; retry`, true);
    this.retryAfterMs = retryAfterMs;
  }
}

/** What LinkFullError suggests: long enough for a busy thread to read a few batches. */
export const LINK_RETRY_AFTER_MS = 200;

/** The target's host went away (worker died, or the system is shutting down). Safe to retry. */
export class UnavailableError extends RuntimeError {
  constructor(reason: string, message: string) {
    super('UNAVAILABLE', reason, message, true);
  }
}

/** The target actor does not exist (never did, or has stopped for good). */
export class ActorNotFoundError extends RuntimeError {
  constructor(target: string) {
    super('NOT_FOUND', 'actor_not_found', `actor ${target} is not running`, false);
  }
}

/** The handler threw while processing an ask; the asker gets this, the supervisor handles the actor. */
export class ActorFailedError extends RuntimeError {
  constructor(target: string, cause: unknown) {
    super('INTERNAL', 'actor_failed', `actor ${target} failed while handling the request`, false, { cause });
  }
}

/** An error as it crosses a thread boundary: `field` only when the thrown value named one. */
export interface WireErrorValue { code: string; reason: string; message: string; retryable: boolean; field?: string }

/** Wraps an error value that crossed a thread boundary, keeping its code, flags and field. */
export function errorFromWire(value: Partial<WireErrorValue>): RuntimeError {
  const code = (value.code ?? 'INTERNAL') as RuntimeErrorCode;
  return new RuntimeError(code, value.reason ?? 'remote_error', value.message ?? 'remote error', value.retryable ?? false,
    value.field === undefined ? undefined : { field: value.field });
}

/** The serialisable form of any thrown value, for replies that cross threads. */
export function errorToWire(err: unknown): WireErrorValue {
  if (err !== null && typeof err === 'object') {
    const e = err as { code?: unknown; reason?: unknown; message?: unknown; retryable?: unknown; field?: unknown };
    return {
      code: typeof e.code === 'string' ? e.code : 'INTERNAL',
      reason: typeof e.reason === 'string' ? e.reason : 'error',
      message: typeof e.message === 'string' ? e.message : String(err),
      retryable: e.retryable === true,
      ...(typeof e.field === 'string' ? { field: e.field } : {}),
    };
  }
  return { code: 'INTERNAL', reason: 'error', message: String(err), retryable: false };
}
