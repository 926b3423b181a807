/**
 * JWT authentication (jose). The key material decides which algorithms are acceptable:
 * a shared secret allows only HS*, a JWKS only RS, PS and ES. That split is what defeats
 * algorithm confusion (an HS256 token "signed" with an RSA public key) and `alg: none`.
 */
import { readFileSync } from 'node:fs';
import {
  SignJWT,
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
} from 'jose';
import type { CryptoKey, JSONWebKeySet, JWTPayload, JWTVerifyGetKey, JWTVerifyOptions, JWTVerifyResult } from 'jose';
import { AuthError, SecurityError } from './errors.js';
import { VerifiedTokenCache } from './token_cache.js';
import type { Authenticator, Principal } from './types.js';

export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export const ASYMMETRIC_ALGORITHMS = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512',
] as const;

/** Shortest HMAC secret accepted: 256 bits, the HS256 output size (RFC 7518 §3.2). */
export const MIN_SECRET_BYTES = 32;
/** Longest token considered; anything larger is refused before parsing. */
export const MAX_TOKEN_CHARS = 8192;
/** Verified tokens remembered by default (see token_cache.ts). */
export const DEFAULT_TOKEN_CACHE_SIZE = 4096;
/** Longest token the cache keeps; longer ones are verified every time. */
const MAX_CACHED_TOKEN_CHARS = 2048;
/** A cached verification is served at most this long (a key withdrawn from a JWKS stops working within it). */
const TOKEN_CACHE_MAX_AGE_MS = 60_000;

export interface JwtAuthenticatorOptions {
  /** HMAC secret (HS256/384/512). Exactly one of `secret` or `jwks`. */
  secret?: string | Uint8Array;
  /** Path to a JWKS JSON file, or an http(s) URL served as a remote key set. */
  jwks?: string;
  issuer?: string;
  audience?: string | string[];
  /** Allowed clock skew for exp/nbf/iat, seconds. Default 30. */
  clockToleranceSec?: number;
  /** Require an `exp` claim. Default true: tokens that never expire are refused. */
  requireExp?: boolean;
  /** Remote JWKS fetch timeout, ms. Default 5000. */
  jwksTimeoutMs?: number;
  /** Verified tokens remembered, so a repeated token skips the signature check. Default 4096; 0 = off. */
  cacheSize?: number;
  /** Clock for tests, epoch ms. */
  now?: () => number;
}

/** The key material bound to its algorithm family, behind one verify function. */
interface KeySource {
  algorithms: readonly string[];
  verify(token: string, options: JWTVerifyOptions): Promise<JWTVerifyResult>;
}

function secretBytes(secret: string | Uint8Array): Uint8Array {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (bytes.byteLength < MIN_SECRET_BYTES) {
    throw new SecurityError('INVALID_REQUEST', 'weak_secret', `JWT secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return bytes;
}

function loadJwks(source: string, timeoutMs: number): JWTVerifyGetKey {
  if (/^https?:\/\//i.test(source)) {
    return createRemoteJWKSet(new URL(source), { timeoutDuration: timeoutMs });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(source, 'utf8'));
  } catch (err) {
    throw new SecurityError('INVALID_REQUEST', 'bad_jwks', `cannot read JWKS file ${source}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { keys?: unknown }).keys)) {
    throw new SecurityError('INVALID_REQUEST', 'bad_jwks', `JWKS file ${source} has no "keys" array`);
  }
  return createLocalJWKSet(parsed as JSONWebKeySet);
}

function keySource(opts: JwtAuthenticatorOptions): KeySource {
  if ((opts.secret === undefined) === (opts.jwks === undefined)) {
    throw new SecurityError('INVALID_REQUEST', 'bad_config', 'configure exactly one of `secret` or `jwks`');
  }
  if (opts.secret !== undefined) {
    const key = hmacKeys(secretBytes(opts.secret));
    return { algorithms: HMAC_ALGORITHMS, verify: (token, options) => jwtVerify(token, key, options) };
  }
  const getKey = loadJwks(opts.jwks as string, opts.jwksTimeoutMs ?? 5000);
  return { algorithms: ASYMMETRIC_ALGORITHMS, verify: (token, options) => jwtVerify(token, getKey, options) };
}

/**
 * The secret imported once per HMAC algorithm, on first use: given raw bytes,
 * jose would import a WebCrypto key again for every token it verifies.
 */
const HMAC_HASH: Readonly<Record<string, string>> = { HS256: 'SHA-256', HS384: 'SHA-384', HS512: 'SHA-512' };

function hmacKeys(secret: Uint8Array): JWTVerifyGetKey {
  const keys = new Map<string, Promise<CryptoKey>>();
  return (header) => {
    const alg = header.alg ?? '';
    let key = keys.get(alg);
    if (key === undefined) {
      const hash = HMAC_HASH[alg];
      if (hash === undefined) throw new errors.JOSEAlgNotAllowed(`"alg" (Algorithm) Header Parameter value not allowed`);
      key = crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash }, false, ['verify']) as Promise<CryptoKey>;
      keys.set(alg, key);
    }
    return key;
  };
}

/** Maps jose's failures to our reasons. Failures outside jose come from fetching a remote JWKS. */
function toAuthError(err: unknown): Error {
  if (err instanceof AuthError) return err;
  if (err instanceof errors.JWTExpired) return new AuthError('expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return new AuthError('missing_claim', `unauthorized: missing claim ${err.claim}`);
    if (err.claim === 'nbf' || err.claim === 'iat') return new AuthError('not_yet_valid');
    if (err.claim === 'iss') return new AuthError('bad_issuer');
    if (err.claim === 'aud') return new AuthError('bad_audience');
    return new AuthError('malformed');
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return new AuthError('bad_signature');
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return new AuthError('alg_not_allowed');
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return new AuthError('unknown_key');
  if (err instanceof errors.JWKSTimeout) {
    return new SecurityError('UNAVAILABLE', 'jwks_unavailable', 'JWKS endpoint timed out');
  }
  if (err instanceof errors.JOSEError) return new AuthError('malformed');
  // Non-jose failures here come from the remote JWKS fetch (network, bad JSON): not the caller's fault.
  return new SecurityError('UNAVAILABLE', 'jwks_unavailable', `JWKS unavailable: ${(err as Error).message}`);
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function scopesOf(payload: JWTPayload): string[] {
  const { scope, scopes } = payload as { scope?: unknown; scopes?: unknown };
  if (typeof scope === 'string') return scope.split(/\s+/).filter((s) => s.length > 0);
  if (Array.isArray(scopes)) {
    if (!scopes.every((s): s is string => typeof s === 'string')) throw new AuthError('malformed', 'unauthorized: scopes must be strings');
    return [...scopes];
  }
  if (scope !== undefined || scopes !== undefined) throw new AuthError('malformed', 'unauthorized: bad scope claim');
  return [];
}

/** Claims → Principal. `tenant` (or Azure-style `tid`) and `sub` are required. */
export function principalFromClaims(payload: JWTPayload): Principal {
  const claims = payload as { tenant?: unknown; tid?: unknown };
  const tenant = nonEmptyString(claims.tenant) ?? nonEmptyString(claims.tid);
  if (tenant === undefined) throw new AuthError('missing_claim', 'unauthorized: missing claim tenant');
  const user = nonEmptyString(payload.sub);
  if (user === undefined) throw new AuthError('missing_claim', 'unauthorized: missing claim sub');
  const principal: Principal = { tenant, user, scopes: scopesOf(payload), via: 'jwt' };
  if (typeof payload.exp === 'number') principal.expiresAt = payload.exp * 1000;
  // A token the console's sign-in issued for an API key: usage and budgets stay the key's.
  const keyId = nonEmptyString((payload as { key_id?: unknown }).key_id);
  if (keyId !== undefined) principal.keyId = keyId;
  return principal;
}

export function createJwtAuthenticator(opts: JwtAuthenticatorOptions): Authenticator {
  const source = keySource(opts);
  const allowed = new Set<string>(source.algorithms);
  const clockTolerance = opts.clockToleranceSec ?? 30;
  const requiredClaims = opts.requireExp === false ? [] : ['exp'];
  const now = opts.now;
  const cache = new VerifiedTokenCache({
    maxEntries: opts.cacheSize ?? DEFAULT_TOKEN_CACHE_SIZE,
    maxTokenChars: MAX_CACHED_TOKEN_CHARS,
    maxAgeMs: TOKEN_CACHE_MAX_AGE_MS,
    clockToleranceMs: clockTolerance * 1000,
    now: now ?? Date.now,
  });

  return {
    async authenticate(credential: string): Promise<Principal> {
      if (typeof credential !== 'string' || credential.length === 0 || credential.length > MAX_TOKEN_CHARS) {
        throw new AuthError('malformed');
      }
      const cached = cache.get(credential);
      if (cached !== undefined) return cached;
      let alg: unknown;
      try {
        alg = decodeProtectedHeader(credential).alg;
      } catch {
        throw new AuthError('malformed');
      }
      // Checked before jose sees the token so the reason is precise and `none` never reaches a verifier.
      if (typeof alg !== 'string' || !allowed.has(alg)) throw new AuthError('alg_not_allowed');
      try {
        const { payload } = await source.verify(credential, {
          algorithms: [...source.algorithms],
          issuer: opts.issuer,
          audience: opts.audience,
          clockTolerance,
          requiredClaims,
          currentDate: now === undefined ? undefined : new Date(now()),
        });
        const principal = principalFromClaims(payload);
        cache.set(credential, principal);
        return principal;
      } catch (err) {
        throw toAuthError(err);
      }
    },
  };
}

export interface SignTokenOptions {
  secret: string | Uint8Array;
  tenant: string;
  user: string;
  scopes?: string[];
  ttlSec: number;
  issuer?: string;
  audience?: string | string[];
  /** The API key the token stands for (`key_id` claim): its usage and budgets count the token's runs. */
  keyId?: string;
  /** Clock for tests, epoch ms. */
  now?: number;
}

/** Issues an HS256 token (dev tokens, the CLI). Production deployments usually bring their own IdP. */
export async function signToken(opts: SignTokenOptions): Promise<string> {
  if (!Number.isFinite(opts.ttlSec) || opts.ttlSec <= 0) {
    throw new SecurityError('INVALID_REQUEST', 'bad_ttl', 'ttlSec must be a positive number');
  }
  if (opts.tenant.length === 0 || opts.user.length === 0) {
    throw new SecurityError('INVALID_REQUEST', 'missing_claim', 'tenant and user are required');
  }
  const iat = Math.floor((opts.now ?? Date.now()) / 1000);
  let jwt = new SignJWT({ tenant: opts.tenant, scope: (opts.scopes ?? []).join(' '), ...(opts.keyId === undefined ? {} : { key_id: opts.keyId }) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(opts.user)
    .setIssuedAt(iat)
    .setExpirationTime(iat + Math.floor(opts.ttlSec));
  if (opts.issuer !== undefined) jwt = jwt.setIssuer(opts.issuer);
  if (opts.audience !== undefined) jwt = jwt.setAudience(opts.audience);
  return jwt.sign(secretBytes(opts.secret));
}

const TTL_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
/** Upper bound for parsed TTLs: one year. */
export const MAX_TTL_SEC = 365 * 86400;

/** `'15s' | '30m' | '1h' | '2d'` (or bare seconds) → seconds. */
export function parseTtl(text: string): number {
  const match = /^\s*(\d{1,9})\s*([smhd]?)\s*$/i.exec(text);
  if (match === null) {
    throw new SecurityError('INVALID_REQUEST', 'bad_ttl', `invalid TTL "${text}": use e.g. 15s, 30m, 1h, 2d`);
  }
  const seconds = Number(match[1]) * TTL_UNITS[(match[2] || 's').toLowerCase()];
  if (seconds <= 0 || seconds > MAX_TTL_SEC) {
    throw new SecurityError('INVALID_REQUEST', 'bad_ttl', `TTL "${text}" must be between 1s and 365d`);
  }
  return seconds;
}
