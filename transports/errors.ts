/**
 * The one error catalogue of the front door. WebSocket error frames, HTTP error
 * bodies, metrics labels and logs all speak these codes, so a client can switch
 * on `code` whatever the transport. docs/protocol.md mirrors this table.
 *
 * A `reason` refines a code (e.g. INVALID_REQUEST + `unknown_method`) without
 * multiplying the codes clients must handle.
 */

export const ERROR_CODES = [
  'INVALID_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'RATE_LIMITED',
  'BUDGET_EXCEEDED',
  'OVERLOADED',
  'PAYLOAD_TOO_LARGE',
  'TIMEOUT',
  'UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface CatalogueEntry {
  /** Default message when the thrower gives none. */
  message: string;
  httpStatus: number;
  retryable: boolean;
  /** OpenAI's `error.type` for the HTTP API. */
  openaiType: string;
}

export const ERROR_CATALOGUE: Readonly<Record<ErrorCode, CatalogueEntry>> = {
  INVALID_REQUEST: { message: 'The request is invalid', httpStatus: 400, retryable: false, openaiType: 'invalid_request_error' },
  UNAUTHORIZED: { message: 'Missing or invalid credentials', httpStatus: 401, retryable: false, openaiType: 'authentication_error' },
  FORBIDDEN: { message: 'Not allowed', httpStatus: 403, retryable: false, openaiType: 'permission_error' },
  NOT_FOUND: { message: 'Not found', httpStatus: 404, retryable: false, openaiType: 'not_found_error' },
  RATE_LIMITED: { message: 'Rate limit exceeded, retry later', httpStatus: 429, retryable: true, openaiType: 'rate_limit_error' },
  // 429 like OpenAI's exhausted quota (`insufficient_quota`): SDKs and proxies already handle it; 402 they mostly do not.
  // Not retryable: retryAfterMs says when the budget's period resets.
  BUDGET_EXCEEDED: { message: 'Usage budget exhausted until it resets', httpStatus: 429, retryable: false, openaiType: 'insufficient_quota' },
  OVERLOADED: { message: 'The server is overloaded, retry later', httpStatus: 503, retryable: true, openaiType: 'server_error' },
  PAYLOAD_TOO_LARGE: { message: 'The payload is too large', httpStatus: 413, retryable: false, openaiType: 'invalid_request_error' },
  TIMEOUT: { message: 'The operation timed out', httpStatus: 504, retryable: true, openaiType: 'server_error' },
  UNAVAILABLE: { message: 'The service is unavailable, retry later', httpStatus: 503, retryable: true, openaiType: 'server_error' },
  INTERNAL: { message: 'Internal error', httpStatus: 500, retryable: false, openaiType: 'server_error' },
};

/** The error object carried by `res` frames and HTTP bodies. */
export interface WireError {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  retryAfterMs?: number;
  /** Finer, stable sub-code, e.g. `unknown_method`, `field_type`. */
  reason?: string;
  /** The offending parameter, for INVALID_REQUEST. */
  field?: string;
}

export interface TroupeErrorOptions {
  reason?: string;
  field?: string;
  retryAfterMs?: number;
  /** Overrides the catalogue's flag (e.g. an UNAVAILABLE that must not be retried). */
  retryable?: boolean;
  cause?: unknown;
}

export class TroupeError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly reason?: string;
  readonly field?: string;
  readonly retryAfterMs?: number;

  constructor(code: ErrorCode, message?: string, opts: TroupeErrorOptions = {}) {
    super(message ?? ERROR_CATALOGUE[code].message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TroupeError';
    this.code = code;
    this.retryable = opts.retryable ?? ERROR_CATALOGUE[code].retryable;
    if (opts.reason !== undefined) this.reason = opts.reason;
    if (opts.field !== undefined) this.field = opts.field;
    if (opts.retryAfterMs !== undefined) this.retryAfterMs = opts.retryAfterMs;
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** True when a thrown value already speaks the catalogue (ours or another layer's). */
export function carriesCatalogueCode(err: unknown): boolean {
  return typeof err === 'object' && err !== null && isErrorCode((err as { code?: unknown }).code);
}

/** Messages longer than this are cut: an error must never echo a whole payload back. */
const MAX_MESSAGE_CHARS = 500;

function readString(obj: Record<string, unknown>, key: string): string | undefined {
  const v = obj[key];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/**
 * Maps any thrown value onto the catalogue. Errors that carry a catalogue
 * `code` (ours, or another layer's with the same shape) keep code, message,
 * retryable and retryAfterMs; everything else becomes a bare INTERNAL so stack
 * traces, SQL or file paths never reach a client.
 */
export function toWireError(err: unknown): WireError {
  if (carriesCatalogueCode(err)) {
    const obj = err as Record<string, unknown>;
    const code = obj.code as ErrorCode;
    const entry = ERROR_CATALOGUE[code];
    const message = (readString(obj, 'message') ?? entry.message).slice(0, MAX_MESSAGE_CHARS);
    const out: WireError = {
      code,
      message,
      retryable: typeof obj.retryable === 'boolean' ? obj.retryable : entry.retryable,
    };
    const after = obj.retryAfterMs;
    if (typeof after === 'number' && Number.isFinite(after) && after >= 0) out.retryAfterMs = Math.ceil(after);
    const reason = readString(obj, 'reason');
    if (reason !== undefined) out.reason = reason.slice(0, 64);
    const field = readString(obj, 'field');
    if (field !== undefined) out.field = field.slice(0, 128);
    return out;
  }
  return { code: 'INTERNAL', message: ERROR_CATALOGUE.INTERNAL.message, retryable: false };
}

export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CATALOGUE[code].httpStatus;
}

/** Shorthand for the most common edge error: a bad field in a request. */
export function invalidField(field: string, message: string, reason = 'invalid_field'): TroupeError {
  return new TroupeError('INVALID_REQUEST', message, { field, reason });
}
