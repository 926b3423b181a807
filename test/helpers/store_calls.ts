// Store work the gateway tests run on the store worker (gateway.store.call), the one
// owner of the database: each export is a StoreCall, `(store, args) => Promise<result>`.
import { keysRevoke as revoke } from '../../gateway/admin.js';
import { runAdminCommand } from '../../gateway/admin_cli.js';
import { runChannelsCommand } from '../../gateway/channels_cli.js';
import type { GatewayConfig } from '../../gateway/config.js';
import type { Store, UsageQuery, UsageRow } from '../../store/index.js';

export const STORE_CALLS = new URL(import.meta.url).href;

async function ensureTenant(store: Store, tenant: string): Promise<void> {
  if ((await store.tenants.get(tenant)) === null) await store.tenants.create({ id: tenant, name: tenant });
}

export async function createApiKey(store: Store, a: { tenant: string; id?: string; name: string; keyHash: string; scopes: string[]; expiresAt: number }): Promise<{ id: string }> {
  await ensureTenant(store, a.tenant);
  const key = await store.withTenant(a.tenant, (s) => s.apiKeys.create({
    ...(a.id === undefined ? {} : { id: a.id }), name: a.name, keyHash: a.keyHash, scopes: a.scopes, expiresAt: new Date(a.expiresAt),
  }));
  return { id: key.id };
}

export function memorySearch(store: Store, a: { tenant: string; query: string; limit: number; namespaces?: string[] }): Promise<unknown[]> {
  return store.withTenant(a.tenant, (s) => s.memory.search(a.query, { limit: a.limit, ...(a.namespaces === undefined ? {} : { namespaces: a.namespaces }) }));
}

export function auditList(store: Store, a: { tenant: string; limit: number }): Promise<unknown[]> {
  return store.withTenant(a.tenant, (s) => s.audit.list({ limit: a.limit }));
}

export function verifyAuditChain(store: Store, a: { tenant: string }): Promise<unknown> {
  return store.verifyAuditChain(a.tenant);
}

export async function query(store: Store, a: { sql: string; params?: unknown[] }): Promise<unknown[]> {
  return (await store.db.query(a.sql, a.params ?? [])).rows;
}

export async function keysRevoke(store: Store, a: { tenant: string; id: string; redisUrl: string; dataDir: string }): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await revoke({ tenant: a.tenant, id: a.id }, {
    config: { store: { kind: store.db.kind === 'pglite' ? 'pglite' : 'postgres' }, dataDir: a.dataDir }, out: (l) => lines.push(l), env: { REDIS_URL: a.redisUrl }, store,
  });
  return { code, lines };
}

/** Holds the store worker's event loop for a while (an ask in flight when it is killed). */
export async function wait(_store: Store, a: { ms: number }): Promise<boolean> {
  await new Promise((r) => setTimeout(r, a.ms));
  return true;
}

/** Messages, not rows: a user message and the reply written with it are one row (migration 011). */
export async function countMessages(store: Store, a: { tenant: string }): Promise<number> {
  const r = await store.db.query<{ n: number }>('SELECT (count(*) + count(reply))::int AS n FROM messages WHERE tenant_id = $1', [a.tenant]);
  return Number(r.rows[0].n);
}

/** Rows of `sql` as the app role in the tenant's scope (RLS applies). */
export function tenantQuery(store: Store, a: { tenant: string; sql: string; params?: unknown[] }): Promise<Record<string, unknown>[]> {
  return store.withTenant(a.tenant, async (s) => (await s.q.query<Record<string, unknown>>(a.sql, a.params ?? [])).rows);
}

export function usageSummary(store: Store, a: { tenant?: string; query: UsageQuery }): Promise<UsageRow[]> {
  return store.usageSummary(a.tenant, a.query);
}

/** `troupe <args>` (admin) or `troupe channels <args>` against the gateway's own store. */
export async function command(store: Store, a: { channels?: boolean; args: string[]; config: GatewayConfig; env?: Record<string, string> }): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const ctx = { config: a.config, out: (l: string) => out.push(l), err: (l: string) => err.push(l), store, ...(a.env === undefined ? {} : { env: a.env }) };
  const code = a.channels === true ? await runChannelsCommand(a.args, ctx) : await runAdminCommand(a.args, ctx);
  return { code, out, err };
}
