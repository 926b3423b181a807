/**
 * Errors raised by security/. Every error carries a `code` from the project-wide catalogue
 * (what the caller should tell the client) and a `reason` (a stable, machine-readable detail
 * for logs and metrics). Messages never include the credential or secret being checked.
 */

export type ErrorCode =
  | 'INVALID_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'RATE_LIMITED'
  | 'OVERLOADED'
  | 'PAYLOAD_TOO_LARGE'
  | 'TIMEOUT'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export class SecurityError extends Error {
  readonly code: ErrorCode;
  readonly reason: string;

  constructor(code: ErrorCode, reason: string, message?: string, options?: ErrorOptions) {
    super(message ?? `${code.toLowerCase()}: ${reason}`, options);
    this.name = 'SecurityError';
    this.code = code;
    this.reason = reason;
  }
}

export type AuthFailure =
  | 'expired'
  | 'not_yet_valid'
  | 'bad_signature'
  | 'bad_issuer'
  | 'bad_audience'
  | 'alg_not_allowed'
  | 'malformed'
  | 'missing_claim'
  | 'unknown_key'
  | 'revoked';

/** A credential was presented and refused. Always UNAUTHORIZED. */
export class AuthError extends SecurityError {
  declare readonly reason: AuthFailure;

  constructor(reason: AuthFailure, message?: string) {
    super('UNAUTHORIZED', reason, message ?? `unauthorized: ${reason}`);
    this.name = 'AuthError';
  }
}

/** Outbound fetch refused (FORBIDDEN) or cut short (PAYLOAD_TOO_LARGE, TIMEOUT, UNAVAILABLE). */
export class SsrfError extends SecurityError {
  constructor(code: ErrorCode, reason: string, message?: string, options?: ErrorOptions) {
    super(code, reason, message, options);
    this.name = 'SsrfError';
  }
}

/** Decryption refused: tampered data, wrong tenant/record binding or unknown key version. */
export class SecretsError extends SecurityError {
  constructor(code: ErrorCode, reason: string, message?: string) {
    super(code, reason, message);
    this.name = 'SecretsError';
  }
}
