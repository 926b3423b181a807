/** /admin/v1/secrets (`admin`): names only; set and rotate; a value is never answered or audited. */
import type { AdminRouter } from './router.js';
import { LimitQuery, NameParams, RotateOut, SecretBody, SecretList, SecretSet } from './schemas.js';

export function secretRoutes(router: AdminRouter): void {
  router.add({
    verb: 'GET', path: '/secrets', action: 'admin.secret.list', summary: "The names of the tenant's secrets (never their values)", tenanted: true,
    query: LimitQuery, response: SecretList,
    handle: async ({ store, tenant, query }) => ({ data: (await store.listSecretNames(tenant, query.limit ?? 100)).map((name) => ({ name })) }),
  });
  router.add({
    verb: 'PUT', path: '/secrets/:name', action: 'admin.secret.set', summary: 'Set a secret, sealed under the current key version', tenanted: true,
    params: NameParams, body: SecretBody, response: SecretSet,
    handle: async ({ store, tenant, params, body, who }) => ({ name: params.name, ...(await store.setSecret(tenant, params.name, body.value, who)) }),
  });
  router.add({
    verb: 'POST', path: '/secrets/rotate', action: 'admin.secrets.rotate', summary: "Re-seal the tenant's secrets under the current key version", tenanted: true,
    response: RotateOut,
    handle: async ({ store, tenant, who }) => {
      const r = await store.rotateSecrets(tenant, who);
      return { keyVersion: r.keyVersion, reencrypted: r.reencrypted, current: r.current, failed: r.failed.map((f) => f.name) };
    },
  });
}
