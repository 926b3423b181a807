/**
 * A tenant's own providers in the store, on the store worker. A row holds the
 * provider's spec (the config file's provider without `id` and without any
 * key); its API key is a secret named `provider:<id>`, sealed with AES-256-GCM
 * by the same `setSecret` as PUT /admin/v1/secrets, so `troupe secrets rotate`
 * re-seals it with the rest. The key is opened only by `providerKey`, which a
 * worker asks for when a call first needs it; it is never answered by the
 * admin API, logged or audited.
 */
import type { TenantProvider } from '../actors/provider/tenant_layers.js';
import type { Store, StoredProvider } from '../store/index.js';
import { admitCreation } from './admin_limits.js';
import { openSecret, sealSecret, type OpenBox } from './admin_secrets.js';
import { auditAdmin, deleteSealedRow, diffFields, type AdminActor } from './admin_support.js';

import { MAX_TENANT_PROVIDERS } from './provider_limits.js';

export const providerSecretName = (id: string): string => `provider:${id}`;

/** A stored provider as served: its spec, and whether a key is stored (never the key). */
export interface ProviderView {
  row: StoredProvider;
  hasApiKey: boolean;
}

export async function listProviders(store: Store, tenant: string, limit = MAX_TENANT_PROVIDERS): Promise<ProviderView[]> {
  return store.withTenant(tenant, async (s) => {
    const rows = await s.providers.list({ limit });
    const names = new Set(await s.secrets.listNames({ limit: 500 }));
    return rows.map((row) => ({ row, hasApiKey: row.secretName !== null && names.has(row.secretName) }));
  });
}

export function getProvider(store: Store, tenant: string, id: string): Promise<ProviderView | null> {
  return store.withTenant(tenant, async (s) => {
    const row = await s.providers.get(id);
    if (row === null) return null;
    return { row, hasApiKey: row.secretName !== null && (await s.secrets.get(row.secretName)) !== null };
  });
}

/** The tenant's providers as the workers get them: specs, whether each has a key, and a version that changes with either. */
export function tenantProviders(store: Store, tenant: string): Promise<TenantProvider[]> {
  return store.withTenant(tenant, async (s) => Promise.all((await s.providers.list({ limit: MAX_TENANT_PROVIDERS })).map(async (row) => {
    const secret = row.secretName === null ? null : await s.secrets.get(row.secretName);
    return {
      id: row.id, spec: row.spec as TenantProvider['spec'], hasKey: secret !== null,
      version: `${new Date(row.updatedAt).toISOString()}|${secret === null ? '-' : new Date(secret.updatedAt).toISOString()}`,
    };
  })));
}

/**
 * Creates or replaces the provider's spec, in one transaction with its key: a
 * new provider is refused (too_many) once the tenant holds `max`, before
 * anything is sealed. `apiKey`: a string seals a new key, null removes the
 * stored one, undefined keeps it. Audited with a diff of the spec (the key's
 * change is the `admin.secret.set` row, without its value).
 */
export function putProvider(
  store: Store, box: OpenBox, tenant: string, id: string, spec: Record<string, unknown>, apiKey: string | null | undefined, who: AdminActor, max: number,
): Promise<ProviderView> {
  const name = providerSecretName(id);
  return store.withTenant(tenant, async (s) => {
    await admitCreation(s.providers, 'providers', id, max);
    if (typeof apiKey === 'string') await sealSecret(s, box, name, apiKey, who);
    else if (apiKey === null && (await s.secrets.get(name)) !== null) await s.secrets.remove(name);
    const { row, before } = await s.providers.put(id, spec, name);
    const hasApiKey = (await s.secrets.get(name)) !== null;
    await auditAdmin(s, 'admin.provider.put', 'success', id, {
      created: before === null, hasApiKey, changes: diffFields(before?.spec, spec),
    }, who);
    return { row, hasApiKey };
  });
}

/** The deleted provider (its key removed too), or null when the tenant has none by that id (audited either way). */
export function deleteProvider(store: Store, tenant: string, id: string, who: AdminActor): Promise<StoredProvider | null> {
  return deleteSealedRow(store, tenant, id, {
    action: 'admin.provider.delete', get: (s) => s.providers.get(id), remove: (s) => s.providers.remove(id),
    secretOf: (row) => row.secretName, fields: (row) => row.spec,
  }, who);
}

/** The plaintext key of a tenant's provider, for the worker whose call needs it; null when none is stored. */
export function providerKey(store: Store, box: OpenBox, tenant: string, id: string): Promise<string | null> {
  return openSecret(store, box, tenant, providerSecretName(id));
}
