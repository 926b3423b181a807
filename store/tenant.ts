import type { Db, Queryable } from './db.js';
import { tenantId as checkTenant } from './validate.js';

/** The role all application work runs as: not the owner, NOBYPASSRLS (see migration 001). */
export const APP_ROLE = 'troupe_app';

/**
 * One unit of work for one tenant: a transaction that drops to the app role and sets
 * the tenant for RLS, both LOCAL so they end with the transaction and a pooled
 * connection never carries them into someone else's work. One round trip sets both.
 */
export async function withTenant<T>(db: Db, tenant: string, fn: (q: Queryable) => Promise<T>): Promise<T> {
  const id = checkTenant(tenant);
  return await db.transaction(async (q) => {
    await enterTenant(q, id);
    return fn(q);
  });
}

/**
 * Inside an open transaction: become the app role and switch the tenant. Switching
 * again later in the same transaction is allowed (batched writers use it so a
 * multi-tenant batch commits or fails as one).
 */
export async function enterTenant(q: Queryable, tenant: string): Promise<void> {
  await q.query(`SELECT set_config('role', '${APP_ROLE}', true), set_config('troupe.tenant_id', $1, true)`, [
    checkTenant(tenant),
  ]);
}

/** App-role work that belongs to no tenant yet (API-key lookup). RLS shows it nothing. */
export function asAppRole<T>(db: Db, fn: (q: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(async (q) => {
    await q.query(`SELECT set_config('role', '${APP_ROLE}', true)`);
    return fn(q);
  });
}
