/**
 * API keys: `trp_<id>_<secret>`.
 *
 *   trp_ 3f9a1c0b2e7d _ <43 chars: 32 random bytes, base64url>
 *        └ id: 6 random bytes, hex. Not secret: stored in clear and used to find the row.
 *
 * Only the SHA-256 of the whole key is stored. The secret part carries 256 bits of entropy,
 * so a fast hash is enough (no password-style stretching needed) and lookups stay cheap.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthError } from './errors.js';
import type { Authenticator, Principal } from './types.js';

export const API_KEY_PREFIX = 'trp_';
const API_KEY_RE = /^trp_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface GeneratedApiKey {
  /** The full key: shown to the user once, never stored. */
  key: string;
  /** Non-secret lookup id (12 hex chars). */
  id: string;
  /** SHA-256 hex of `key`: what the store persists. */
  hash: string;
}

export function generateApiKey(): GeneratedApiKey {
  const id = randomBytes(6).toString('hex');
  const key = `${API_KEY_PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
  return { key, id, hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Splits a well-formed key into its lookup id; null for anything else. */
export function parseApiKey(key: string): { id: string } | null {
  const match = API_KEY_RE.exec(key);
  return match === null ? null : { id: match[1] };
}

/** True for the API key shape. JWTs (three dot-separated parts) never match. */
export function looksLikeApiKey(credential: string): boolean {
  return API_KEY_RE.test(credential);
}

/**
 * Compares two strings in time independent of where they differ. Both sides are hashed first
 * so unequal lengths take the same path and leak nothing about the expected length.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

/** Checks a presented key against a stored SHA-256 hex hash. */
export function verifyApiKey(key: string, storedHash: string): boolean {
  return constantTimeEqual(hashApiKey(key), storedHash.toLowerCase());
}

/** What a store returns for a key id. */
export interface ApiKeyRecord {
  hash: string;
  tenant: string;
  user: string;
  scopes: string[];
  /** Epoch ms; absent means no expiry. */
  expiresAt?: number;
  revoked?: boolean;
}

export interface ApiKeyAuthenticatorOptions {
  lookup(id: string): Promise<ApiKeyRecord | null>;
  now?: () => number;
}

/**
 * Authenticator over a lookup function (store/ provides it). Unknown id and wrong secret give
 * the same reason so a caller cannot probe which ids exist.
 */
export function createApiKeyAuthenticator(opts: ApiKeyAuthenticatorOptions): Authenticator {
  const now = opts.now ?? Date.now;
  return {
    async authenticate(credential: string): Promise<Principal> {
      const parsed = parseApiKey(credential);
      if (parsed === null) throw new AuthError('malformed');
      const record = await opts.lookup(parsed.id);
      if (record === null || !verifyApiKey(credential, record.hash)) throw new AuthError('bad_signature');
      if (record.revoked === true) throw new AuthError('revoked');
      if (record.expiresAt !== undefined && record.expiresAt <= now()) throw new AuthError('expired');
      const principal: Principal = { tenant: record.tenant, user: record.user, scopes: [...record.scopes], via: 'api_key' };
      if (record.expiresAt !== undefined) principal.expiresAt = record.expiresAt;
      return principal;
    },
  };
}

/** Routes API-key-shaped credentials to `apiKeys`, everything else to `jwt`. */
export function createCredentialAuthenticator(jwt: Authenticator, apiKeys: Authenticator): Authenticator {
  return {
    authenticate(credential: string): Promise<Principal> {
      return looksLikeApiKey(credential) ? apiKeys.authenticate(credential) : jwt.authenticate(credential);
    },
  };
}
