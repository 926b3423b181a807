/** Codes come from the project-wide catalogue (see docs/redis.md). */
export type RedisStoreErrorCode = 'INVALID_REQUEST' | 'UNAVAILABLE' | 'INTERNAL';

export class RedisStoreError extends Error {
  readonly code: RedisStoreErrorCode;

  constructor(code: RedisStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RedisStoreError';
    this.code = code;
  }
}

/**
 * Bad input is the caller's fault and must reach the caller: falling back to an
 * in-process implementation would only hide it.
 */
export function isInvalidRequest(err: unknown): boolean {
  return err instanceof RedisStoreError && err.code === 'INVALID_REQUEST';
}

/** A message for logs from anything thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
