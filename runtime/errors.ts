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
  /** How long to wait before retrying, when a remote error said (kept across the thread hop, as `field`). */
  readonly retryAfterMs?: number;

  constructor(
    code: RuntimeErrorCode, reason: string, message: string, retryable: boolean,
    options?: { cause?: unknown; field?: string; retryAfterMs?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.reason = reason;
    this.retryable = retryable;
    if (options?.field !== undefined) this.field = options.field;
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
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
  declare readonly retryAfterMs: number;

  constructor(host: number, maxQueued: number, retryAfterMs = LINK_RETRY_AFTER_MS) {
    super('OVERLOADED', 'link_full', `host ${host} has ${maxQueued} messages waiting to be read; retry`, true, { retryAfterMs });
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

/** An error as it crosses a thread boundary: `field` and `retryAfterMs` only when the thrown value had them. */
export interface WireErrorValue { code: string; reason: string; message: string; retryable: boolean; field?: string; retryAfterMs?: number }

/** Wraps an error value that crossed a thread boundary, keeping its code, flags, field and retry hint. */
export function errorFromWire(value: Partial<WireErrorValue>): RuntimeError {
  const code = (value.code ?? 'INTERNAL') as RuntimeErrorCode;
  const options: { field?: string; retryAfterMs?: number } = {};
  if (value.field !== undefined) options.field = value.field;
  if (value.retryAfterMs !== undefined) options.retryAfterMs = value.retryAfterMs;
  return new RuntimeError(code, value.reason ?? 'remote_error', value.message ?? 'remote error', value.retryable ?? false, options);
}

/** The serialisable form of any thrown value, for replies that cross threads. */
export function errorToWire(err: unknown): WireErrorValue {
  if (err !== null && typeof err === 'object') {
    const e = err as { code?: unknown; reason?: unknown; message?: unknown; retryable?: unknown; field?: unknown; retryAfterMs?: unknown };
    const after = e.retryAfterMs;
    return {
      code: typeof e.code === 'string' ? e.code : 'INTERNAL',
      reason: typeof e.reason === 'string' ? e.reason : 'error',
      message: typeof e.message === 'string' ? e.message : String(err),
      retryable: e.retryable === true,
      ...(typeof e.field === 'string' ? { field: e.field } : {}),
      ...(typeof after === 'number' && Number.isFinite(after) && after >= 0 ? { retryAfterMs: after } : {}),
    };
  }
  return { code: 'INTERNAL', reason: 'error', message: String(err), retryable: false };
}
