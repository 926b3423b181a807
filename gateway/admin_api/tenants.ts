/** /admin/v1/tenants (`platform` scope): list, create, get. */
import { TroupeError } from '../../transports/errors.js';
import type { Tenant } from '../../store/index.js';
import type { AdminRouter } from './router.js';
import { IdParams, LimitQuery, TenantBody, TenantList, TenantOut } from './schemas.js';

const out = (t: Tenant) => ({ id: t.id, name: t.name, createdAt: t.createdAt });

export function tenantRoutes(router: AdminRouter): void {
  router.add({
    verb: 'GET', path: '/tenants', action: 'admin.tenant.list', summary: 'Every tenant', tenanted: false,
    query: LimitQuery, response: TenantList,
    handle: async ({ store, query }) => ({ data: (await store.listTenants(query.limit ?? 100)).map(out) }),
  });
  router.add({
    verb: 'POST', path: '/tenants', action: 'admin.tenant.create', summary: 'Create a tenant', tenanted: false,
    body: TenantBody, status: 201, response: TenantOut,
    handle: async ({ store, body, who }) => {
      if (await store.tenantExists(body.id)) throw new TroupeError('INVALID_REQUEST', `tenant ${body.id} exists already`, { reason: 'exists', field: 'id' });
      return out(await store.createTenant(body, who));
    },
  });
  router.add({
    verb: 'GET', path: '/tenants/:id', action: 'admin.tenant.get', summary: 'One tenant', tenanted: false,
    params: IdParams, response: TenantOut,
    handle: async ({ store, params }) => {
      const t = await store.getTenant(params.id);
      if (t === null) throw new TroupeError('NOT_FOUND', `tenant ${params.id} does not exist`, { reason: 'no_tenant' });
      return out(t);
    },
  });
}
