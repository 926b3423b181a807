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

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
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

/**
 * Row-level security rejections (42501 insufficient_privilege, raised for a failed
 * WITH CHECK) become FORBIDDEN; unique violations become INVALID_REQUEST. Anything
 * else is rethrown untouched so real faults keep their stack.
 */
export function translateDbError(err: unknown): never {
  const state = sqlState(err);
  const message = err instanceof Error ? err.message : String(err);
  if (state === '42501') throw new StoreError('FORBIDDEN', message, { cause: err });
  if (state === '23505') throw new StoreError('INVALID_REQUEST', `already exists: ${message}`, { cause: err });
  if (state === '23503') throw new StoreError('INVALID_REQUEST', `unknown reference: ${message}`, { cause: err });
  if (state === '23514' || state === '22P02') throw new StoreError('INVALID_REQUEST', message, { cause: err });
  throw err;
}
