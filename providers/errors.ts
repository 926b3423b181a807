// One error class for every provider failure. Adapters map their SDK's errors
// into it with the helpers below, so callers (the provider actor's retries and
// breakers) decide on `kind` alone and never look at vendor classes.

export type ProviderErrorKind =
  | 'rate_limited'
  | 'overloaded'
  | 'auth'
  | 'bad_request'
  | 'context_overflow'
  | 'timeout'
  | 'network'
  | 'aborted';

/** Codes from the project's shared catalogue; 'aborted' has none there. */
const CODES: Record<ProviderErrorKind, string> = {
  rate_limited: 'RATE_LIMITED',
  overloaded: 'OVERLOADED',
  auth: 'UNAUTHORIZED',
  bad_request: 'INVALID_REQUEST',
  context_overflow: 'PAYLOAD_TOO_LARGE',
  timeout: 'TIMEOUT',
  network: 'UNAVAILABLE',
  aborted: 'ABORTED',
};

const RETRYABLE: ReadonlySet<ProviderErrorKind> = new Set(['rate_limited', 'overloaded', 'timeout', 'network']);

/** A Retry-After longer than this is treated as this: no caller should sleep longer. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

export interface ProviderErrorInit {
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly cause?: unknown;
}

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly kind: ProviderErrorKind;
  readonly provider: string;
  readonly status?: number;
  readonly retryAfterMs?: number;

  constructor(kind: ProviderErrorKind, provider: string, message: string, init: ProviderErrorInit = {}) {
    super(`${provider}: ${message}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.kind = kind;
    this.provider = provider;
    if (init.status !== undefined) this.status = init.status;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
  }

  /** The shared catalogue code (RATE_LIMITED, OVERLOADED, ...). */
  get code(): string {
    return CODES[this.kind];
  }

  /** Whether the same request may succeed if sent again later. */
  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }
}

/** Something with a header getter: the WHATWG Headers of fetch and the SDKs. */
export interface HeaderSource {
  get(name: string): string | null;
}

/**
 * Reads `retry-after-ms` (OpenAI/Anthropic) or `retry-after` as seconds or as an
 * HTTP date. Returns undefined when absent or unreadable.
 */
export function parseRetryAfter(headers: HeaderSource | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return clampRetry(value);
  }
  const raw = headers.get('retry-after');
  if (raw === null || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return seconds >= 0 ? clampRetry(seconds * 1000) : undefined;
  const date = Date.parse(raw);
  if (Number.isNaN(date)) return undefined;
  return clampRetry(Math.max(0, date - now));
}

function clampRetry(ms: number): number {
  return Math.min(Math.round(ms), MAX_RETRY_AFTER_MS);
}

const CONTEXT_OVERFLOW =
  /context[ _-]?(length|window)|too many tokens|maximum (context|number of tokens)|prompt is too long|input is too long|token limit|exceeds? the (maximum|max)/i;

/** The HTTP status table shared by every adapter. */
export function kindForStatus(status: number, message: string): ProviderErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 408) return 'timeout';
  if (status === 429) return 'rate_limited';
  if (status === 413) return 'context_overflow';
  if (status === 504) return 'timeout';
  if (status >= 500) return 'overloaded';
  if (status >= 400) return CONTEXT_OVERFLOW.test(message) ? 'context_overflow' : 'bad_request';
  return 'network';
}

export function errorFromStatus(
  provider: string,
  status: number,
  message: string,
  headers?: HeaderSource,
  cause?: unknown,
): ProviderError {
  const retryAfterMs = parseRetryAfter(headers);
  return new ProviderError(kindForStatus(status, message), provider, message || `HTTP ${status}`, {
    status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    cause,
  });
}

/** Vendor error `type` strings seen inside a stream, where no HTTP status exists. */
export function kindForErrorType(type: string | undefined): ProviderErrorKind {
  switch (type) {
    case 'rate_limit_error':
    case 'rate_limit_exceeded':
      return 'rate_limited';
    case 'authentication_error':
    case 'permission_error':
      return 'auth';
    case 'invalid_request_error':
      return 'bad_request';
    case 'timeout_error':
      return 'timeout';
    default:
      return 'overloaded';
  }
}

export function streamEndedEarly(provider: string): ProviderError {
  return new ProviderError('network', provider, 'stream ended early, before the terminal marker');
}

export function abortedError(provider: string, cause?: unknown): ProviderError {
  return new ProviderError('aborted', provider, 'request aborted by the caller', { cause });
}

/**
 * The fallback for errors that no SDK class explains: fetch failures
 * (ECONNREFUSED, "terminated" when a socket dies mid-body) are network errors,
 * and anything after the caller aborted is 'aborted'.
 */
export function genericError(provider: string, err: unknown, signal: AbortSignal | undefined): ProviderError {
  if (err instanceof ProviderError) return err;
  if (signal?.aborted) return abortedError(provider, err);
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof Error && (err.name === 'TimeoutError' || /timed? ?out/i.test(message) || TIMEOUT_CODES.has(causeCode(err)))) {
    return new ProviderError('timeout', provider, message, { cause: err });
  }
  return new ProviderError('network', provider, message, { cause: err });
}

/** Socket and undici codes that mean a timeout; fetch hides them in `cause`. */
const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function causeCode(err: Error): string {
  const cause = (err as { cause?: unknown }).cause;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : '';
}
