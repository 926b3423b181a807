/**
 * /admin/v1/api-keys (`admin`): list (never a hash), create (the key is
 * answered once), revoke (dropped from every gateway's key cache at once).
 * A caller grants only scopes it holds itself, and `chat` if it is an admin.
 */
import { parseTtl } from '../../security/jwt.js';
import { allows, isScope } from '../../security/scopes.js';
import type { ApiKey } from '../../store/index.js';
import { invalidField, TroupeError } from '../../transports/errors.js';
import { NEVER } from '../key_expiry.js';
import type { AdminRouter } from './router.js';
import { ApiKeyBody, ApiKeyCreated, ApiKeyList, ApiKeyRevoked, IdParams, LimitQuery } from './schemas.js';

const out = (k: ApiKey) => ({
  id: k.id, name: k.name, scopes: k.scopes, userId: k.userId, expiresAt: k.expiresAt, revokedAt: k.revokedAt, lastUsedAt: k.lastUsedAt, createdAt: k.createdAt,
});

function expiry(text: string): Date {
  if (text === 'never') return NEVER;
  try {
    return new Date(Date.now() + parseTtl(text) * 1000);
  } catch (err) {
    throw invalidField('expiresIn', `expiresIn: ${(err as Error).message}, or "never"`, 'field_range');
  }
}

/** Drops a revoked key from the gateway's lookups (and, through Redis, every other gateway's). */
export type InvalidateKey = (hash: string) => Promise<void>;

export function apiKeyRoutes(router: AdminRouter, invalidate: InvalidateKey): void {
  router.add({
    verb: 'GET', path: '/api-keys', action: 'admin.key.list', summary: "The tenant's API keys (metadata only)", tenanted: true,
    query: LimitQuery, response: ApiKeyList,
    handle: async ({ store, tenant, query }) => ({ data: (await store.listKeys(tenant, query.limit ?? 100)).map(out) }),
  });
  router.add({
    verb: 'POST', path: '/api-keys', action: 'admin.key.create', summary: 'Create an API key; the key is in this answer only', tenanted: true,
    body: ApiKeyBody, status: 201, response: ApiKeyCreated,
    handle: async ({ store, tenant, body, principal, who }) => {
      for (const s of body.scopes) {
        const grantable = isScope(s) && (allows(principal.scopes, s) || (s === 'chat' && allows(principal.scopes, 'admin')));
        if (!grantable) throw new TroupeError('FORBIDDEN', `scopes: the caller cannot grant "${s}", which it does not hold`, { reason: 'scope_escalation', field: 'scopes' });
      }
      const { key, record } = await store.createKey(tenant, {
        name: body.name, scopes: body.scopes, expiresAt: expiry(body.expiresIn), ...(body.userId === undefined ? {} : { userId: body.userId }),
      }, who);
      return { ...out(record), key };
    },
  });
  router.add({
    verb: 'DELETE', path: '/api-keys/:id', action: 'admin.key.revoke', summary: 'Revoke an API key (idempotent)', tenanted: true,
    params: IdParams, response: ApiKeyRevoked,
    handle: async ({ store, tenant, params, who }) => {
      const { hash, revokedAt } = await store.revokeKey(tenant, params.id, who);
      await invalidate(hash);
      return { id: params.id, revokedAt };
    },
  });
}
