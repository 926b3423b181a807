/**
 * /admin/v1/providers (`admin`): the tenant's own providers, which its agents'
 * chains may name besides the config file's. The spec is stored as is; the key
 * (`apiKey`, write-only) is sealed into the secret `provider:<id>` and opened
 * only on the store worker when a worker's call first needs it. A change
 * reaches new runs at once, as an agent change does.
 */
import { TroupeError } from '../../transports/errors.js';
import type { ProviderView } from '../admin_providers.js';
import { checkTenantLimit } from '../admin_limits.js';
import type { AdminRouter } from './router.js';
import { LimitQuery, ProviderBody, ProviderDeleted, ProviderIdParams, ProviderList, ProviderOut } from './schemas.js';

export interface ProviderRoutesDeps {
  /** The config file's provider ids: a tenant's own cannot take one. */
  configIds: ReadonlySet<string>;
  /** Most providers of a tenant's own. */
  maxPerTenant: number;
  /** Told after every change (the gateway pushes it to the workers). */
  changed(tenant: string): Promise<void>;
}

const out = ({ row, hasApiKey }: ProviderView) => ({ ...(row.spec as object), id: row.id, hasApiKey, createdAt: row.createdAt, updatedAt: row.updatedAt });

export function providerRoutes(router: AdminRouter, deps: ProviderRoutesDeps): void {
  const notFound = (id: string) => new TroupeError('NOT_FOUND', `no provider ${id}`, { reason: 'no_provider' });
  router.add({
    verb: 'GET', path: '/providers', action: 'admin.provider.list', summary: "The tenant's own providers (never their keys)", tenanted: true,
    query: LimitQuery, response: ProviderList,
    handle: async ({ store, tenant, query }) => ({ data: (await store.listProviders(tenant, query.limit ?? 100)).map(out) }),
  });
  router.add({
    verb: 'GET', path: '/providers/:id', action: 'admin.provider.get', summary: 'One provider (never its key)', tenanted: true,
    params: ProviderIdParams, response: ProviderOut,
    handle: async ({ store, tenant, params }) => {
      const p = await store.getProvider(tenant, params.id);
      if (p === null) throw notFound(params.id);
      return out(p);
    },
  });
  router.add({
    verb: 'PUT', path: '/providers/:id', action: 'admin.provider.put', summary: "Create a provider or replace its spec; its key is sealed, never answered", tenanted: true,
    params: ProviderIdParams, body: ProviderBody, response: ProviderOut,
    handle: async ({ store, tenant, params, body, who }) => {
      if (deps.configIds.has(params.id)) {
        throw new TroupeError('INVALID_REQUEST', `provider ${params.id} is one of the config file's; choose another id`, { reason: 'exists', field: 'id' });
      }
      await checkTenantLimit('providers', () => store.getProvider(tenant, params.id), (n) => store.listProviders(tenant, n), deps.maxPerTenant);
      const { apiKey, ...spec } = body;
      const saved = await store.putProvider(tenant, params.id, spec, apiKey, who, deps.maxPerTenant);
      await deps.changed(tenant);
      return out(saved);
    },
  });
  router.add({
    verb: 'DELETE', path: '/providers/:id', action: 'admin.provider.delete', summary: 'Delete a provider and its key (refused while an agent names it)', tenanted: true,
    params: ProviderIdParams, response: ProviderDeleted,
    handle: async ({ store, tenant, params, who }) => {
      const users = (await store.listAgents(tenant, 10_000)).filter((a) => ((a.config.chain ?? []) as { providerId: string }[]).some((e) => e.providerId === params.id));
      if (users.length > 0) {
        throw new TroupeError('INVALID_REQUEST', `agents ${users.map((a) => a.name).join(', ')} name provider ${params.id} in their chain; change them first`, { reason: 'in_use', field: 'id' });
      }
      if ((await store.deleteProvider(tenant, params.id, who)) === null) throw notFound(params.id);
      await deps.changed(tenant);
      return { id: params.id, deleted: true as const };
    },
  });
}
