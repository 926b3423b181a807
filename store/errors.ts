/**
 * The one error type store/ throws on purpose. `code` comes from the project's shared
 * catalogue so transports can map it to a wire error without knowing about SQL.
 */
export type StoreErrorCode =
  | 'INVALID_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'OVERLOADED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  /** A stable machine-readable refinement of `code` (the wire error's `reason`), where one applies. */
  readonly reason?: string;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown; reason?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StoreError';
    this.code = code;
    if (options?.reason !== undefined) this.reason = options.reason;
  }
}

/** PostgreSQL SQLSTATE of a driver error (pg and PGlite both expose `code`), if any. */
export function sqlState(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** What a caller is told for each SQLSTATE the store translates: a fixed sentence and a reason, never the SQL text. */
const TRANSLATED: Readonly<Record<string, { code: StoreErrorCode; reason: string; message: string }>> = {
  '42501': { code: 'FORBIDDEN', reason: 'row_security', message: 'The store refused a row outside the caller\'s tenant' },
  '23505': { code: 'INVALID_REQUEST', reason: 'already_exists', message: 'A record with that key already exists' },
  '23503': { code: 'INVALID_REQUEST', reason: 'unknown_reference', message: 'The request refers to a record that does not exist' },
  '23514': { code: 'INVALID_REQUEST', reason: 'invalid_value', message: 'A value is out of range or malformed' },
  '22P02': { code: 'INVALID_REQUEST', reason: 'invalid_value', message: 'A value is out of range or malformed' },
};

/**
 * Row-level security rejections (42501 insufficient_privilege, raised for a failed
 * WITH CHECK) become FORBIDDEN; unique and foreign-key violations, failed CHECKs and
 * malformed values become INVALID_REQUEST. The message is a fixed sentence with a
 * `reason`, because transports pass a catalogue error's message to the caller: the
 * driver's text (table, constraint and column names, the offending values) stays on
 * `cause` for logs. Anything else is rethrown untouched so real faults keep their stack
 * (and reach callers as a bare INTERNAL).
 */
export function translateDbError(err: unknown): never {
  const state = sqlState(err);
  const known = state !== undefined && Object.hasOwn(TRANSLATED, state) ? TRANSLATED[state] : undefined;
  if (known !== undefined) throw new StoreError(known.code, known.message, { cause: err, reason: known.reason });
  throw err;
}
