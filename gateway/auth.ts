/**
 * The gateway's authenticator: a JWT (jose) or an API key (`trp_…`, looked up
 * by its SHA-256 in the store). Failures and API-key use leave audit rows.
 */
import { AuthError } from '../security/errors.js';
import { hashApiKey, looksLikeApiKey, parseApiKey } from '../security/api_keys.js';
import type { AuthContext, Authenticator, Principal } from '../security/types.js';
import { SYSTEM_TENANT } from '../store/repos/audit.js';
import type { Store } from '../store/index.js';
import type { Persistence } from '../actors/persistence.js';
import type { ApiKeyLookup } from './api_key_cache.js';

export function createGatewayAuthenticator(
  jwt: Authenticator, store: Store | undefined, persistence: Persistence | undefined, lookup?: ApiKeyLookup,
): Authenticator {
  const find = lookup ?? ((hash: string) => (store as Store).findApiKeyByHash(hash));
  const apiKey = async (credential: string, ip: string | undefined): Promise<Principal> => {
    if (store === undefined) throw new AuthError('malformed', 'API keys need a store (TROUPE_STORE is none)');
    const parsed = parseApiKey(credential);
    if (parsed === null) throw new AuthError('malformed');
    const match = await find(hashApiKey(credential));
    if (match === null) throw new AuthError('bad_signature');
    // A cached match may outlive the key's expiry by the cache TTL: check it here too.
    if (match.expiresAt.getTime() <= Date.now()) throw new AuthError('expired');
    const principal: Principal = {
      tenant: match.tenantId, user: match.userId ?? `key:${match.id}`, scopes: [...match.scopes], via: 'api_key', keyId: match.id,
      expiresAt: match.expiresAt.getTime(),
    };
    persistence?.recordAudit(match.tenantId, {
      actor: `key:${match.id}`, action: 'apikey.use', target: match.name, outcome: 'success', ...(ip ? { sourceIp: ip } : {}),
    });
    return principal;
  };
  return {
    async authenticate(credential: string, context?: AuthContext): Promise<Principal> {
      try {
        return looksLikeApiKey(credential) ? await apiKey(credential, context?.ip) : await jwt.authenticate(credential);
      } catch (err) {
        persistence?.recordAudit(SYSTEM_TENANT, {
          actor: 'anonymous', action: 'auth.failure', outcome: 'denied', ...(context?.ip ? { sourceIp: context.ip } : {}),
          detail: { via: looksLikeApiKey(credential) ? 'api_key' : 'jwt', reason: (err as { reason?: string }).reason ?? 'error' },
        });
        throw err;
      }
    },
  };
}
