/**
 * The gateway's authenticator: a JWT (jose) or an API key (`trp_…`, looked up
 * by its SHA-256 in the store). A JWT that names the API key it was issued for
 * (`key_id`: POST /admin/v1/token signed in with a key) holds only while that
 * key is live, so revoking a key also ends the tokens issued for it; a
 * connection that outlives one request asks `stillValid` again, so revoking
 * ends it too. Failures and API-key use leave audit rows.
 */
import { AuthError } from '../security/errors.js';
import { hashApiKey, looksLikeApiKey, parseApiKey } from '../security/api_keys.js';
import type { AuthContext, Authenticator, Principal } from '../security/types.js';
import { SYSTEM_TENANT } from '../store/repos/audit.js';
import type { AuditEvent } from '../store/index.js';
import type { ApiKeyLookup } from './api_key_cache.js';

/** What API keys and the audit trail need from the store; absent with TROUPE_STORE=none. */
export interface AuthStore {
  find: ApiKeyLookup;
  /** Whether the tenant's key with this id is unrevoked and unexpired. */
  keyLive(tenant: string, id: string): Promise<boolean>;
  audit(tenant: string, event: AuditEvent): void;
}

export function createGatewayAuthenticator(jwt: Authenticator, store: AuthStore | undefined): Authenticator {
  const apiKey = async (credential: string, ip: string | undefined): Promise<Principal> => {
    if (store === undefined) throw new AuthError('malformed', 'API keys need a store (TROUPE_STORE is none)');
    const parsed = parseApiKey(credential);
    if (parsed === null) throw new AuthError('malformed');
    // While the store worker is being replaced this rejects with a retryable UNAVAILABLE (not UNAUTHORIZED).
    const match = await store.find(hashApiKey(credential));
    if (match === null) throw new AuthError('bad_signature');
    // A cached match may outlive the key's expiry by the cache TTL: check it here too.
    if (match.expiresAt.getTime() <= Date.now()) throw new AuthError('expired');
    const principal: Principal = {
      tenant: match.tenantId, user: match.userId ?? `key:${match.id}`, scopes: [...match.scopes], via: 'api_key', keyId: match.id,
      expiresAt: match.expiresAt.getTime(),
    };
    store.audit(match.tenantId, {
      actor: `key:${match.id}`, action: 'apikey.use', target: match.name, outcome: 'success', ...(ip ? { sourceIp: ip } : {}),
    });
    return principal;
  };
  const token = async (credential: string): Promise<Principal> => {
    const principal = await jwt.authenticate(credential);
    // While the store worker is being replaced this rejects with a retryable UNAVAILABLE (not UNAUTHORIZED).
    if (principal.keyId !== undefined && store !== undefined && !(await store.keyLive(principal.tenant, principal.keyId))) {
      throw new AuthError('revoked', 'the API key this token was issued for is revoked or expired');
    }
    return principal;
  };
  const refused = (via: string, reason: string, context: AuthContext | undefined, known: Record<string, string> = {}): void => {
    store?.audit(SYSTEM_TENANT, {
      actor: 'anonymous', action: 'auth.failure', outcome: 'denied', ...(context?.ip ? { sourceIp: context.ip } : {}), detail: { via, reason, ...known },
    });
  };
  return {
    async stillValid(principal: Principal, context?: AuthContext): Promise<boolean> {
      if (principal.keyId === undefined || store === undefined) return true;
      // While the store worker is being replaced this rejects with a retryable UNAVAILABLE.
      if (await store.keyLive(principal.tenant, principal.keyId)) return true;
      refused(principal.via, 'revoked', context, { tenant: principal.tenant, keyId: principal.keyId });
      return false;
    },
    async authenticate(credential: string, context?: AuthContext): Promise<Principal> {
      try {
        return looksLikeApiKey(credential) ? await apiKey(credential, context?.ip) : await token(credential);
      } catch (err) {
        // Only refusals are audited; a store that is briefly unavailable is not an auth failure.
        if ((err as { code?: unknown }).code === 'UNAVAILABLE') throw err;
        refused(looksLikeApiKey(credential) ? 'api_key' : 'jwt', (err as { reason?: string }).reason ?? 'error', context);
        throw err;
      }
    },
  };
}
