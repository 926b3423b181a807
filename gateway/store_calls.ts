/**
 * Store work the gateway runs on the store worker (StoreClient.call): each export
 * is a StoreCall, `(store, args) => Promise<result>`, with msgpack-serialisable
 * arguments and results.
 */
import { rootLog } from '../observability/log.js';
import type { SealedSecret, Store, UsageQuery, UsageRow } from '../store/index.js';
import type { AgentConfig } from '../actors/protocol.js';
import type { AdminStore } from './admin_api/admin_store.js';
import type { OpenBox } from './admin_secrets.js';
import type { AgentDefinition } from './agent_definition.js';
import type { TenantProvider } from '../actors/provider/tenant_layers.js';
import type { TenantMcpServer } from '../actors/tenant_mcp.js';
import type { McpServerConfig } from '../tools/mcp/config.js';

export const GATEWAY_STORE_CALLS = new URL(import.meta.url).href;

/** A tenant's sealed secret (channel credentials named `secret:NAME`). */
export function sealedSecret(store: Store, a: { tenant: string; name: string }): Promise<SealedSecret | null> {
  return store.withTenant(a.tenant, (s) => s.secrets.get(a.name));
}

/** Tenants with team runs (the team coordinator resumes their running ones). */
export function teamTenants(store: Store): Promise<string[]> {
  return store.teamTenants();
}

/**
 * A tenant's agents for its runs (seeded once from the config file's, `seed`), its own providers (no keys)
 * and its MCP servers (seeded once from the file's `tools.mcpServers`, `mcpSeed`; no sealed values).
 * A tenant's first chat turn waits for this, so it loads only the modules that hold these rows, not the admin API's.
 */
export async function tenantAgents(store: Store, a: {
  tenant: string; seed: AgentDefinition[]; mcpSeed: Record<string, McpServerConfig>; dataDir: string;
}): Promise<{ agents: AgentConfig[]; providers: TenantProvider[]; mcpServers: TenantMcpServer[] }> {
  // Loaded here, on the store worker, on first use: the main thread imports this module only for its URL.
  const [{ agentConfigOf, agentsForTenant, seedAgents }, { tenantProviders }, { seedMcpServers, tenantMcpServers }] = await Promise.all([
    import('./admin_agents.js'), import('./admin_providers.js'), import('./admin_mcp.js'),
  ]);
  await seedAgents(store, a.tenant, a.seed);
  await seedMcpServers(store, keyring(a.dataDir), a.tenant, a.mcpSeed);
  return {
    agents: (await agentsForTenant(store, a.tenant)).map(agentConfigOf), providers: await tenantProviders(store, a.tenant),
    mcpServers: await tenantMcpServers(store, a.tenant),
  };
}

/** A tenant provider's key, opened here for the worker whose call needs it (actors/provider/tenant_layers.ts). */
export async function providerKey(store: Store, a: { tenant: string; id: string; dataDir: string }): Promise<string | null> {
  const { providerKey: openKey } = await import('./admin_providers.js');
  return openKey(store, await keyring(a.dataDir)(), a.tenant, a.id);
}

/** A tenant MCP server's opened headers or env, for the worker that connects it (actors/tenant_mcp.ts). */
export async function mcpSecretValues(store: Store, a: { tenant: string; id: string; dataDir: string }): Promise<Record<string, string> | null> {
  const { mcpSecretValues: openValues } = await import('./admin_mcp.js');
  return openValues(store, await keyring(a.dataDir)(), a.tenant, a.id);
}

/** GET /v1/usage (the caller flushes the usage queue first). */
export async function usageSummary(store: Store, a: { tenant?: string; query: UsageQuery }): Promise<UsageRow[]> {
  return store.usageSummary(a.tenant, a.query);
}

/**
 * The keyring that seals and opens tenant secrets on this (the store worker's) thread: opened on first use
 * (from TROUPE_ENCRYPTION_KEY or the data dir, whose keyring warnings are logged) and shared by the chat
 * path's calls above and the admin API's AdminStore; a failed open is tried again next time.
 */
let opened: Promise<OpenBox> | undefined;
const keyring = (dataDir: string) => (): Promise<OpenBox> => (opened ??= import('./admin_secrets.js')
  .then(({ openKeyring }) => openKeyring({ env: process.env, dataDir, warn: (msg) => rootLog().warn(msg, { component: 'admin' }) }))
  .catch((err: unknown) => { opened = undefined; throw err; }));

/** The admin API's AdminStore on this thread, made on first use. */
let admin: Promise<AdminStore> | undefined;

/** One AdminStore method (the admin API, /admin/v1), run where the database is. */
export async function adminStore(store: Store, a: { method: keyof AdminStore; args: unknown[]; dataDir: string }): Promise<unknown> {
  admin ??= import('./admin_api/admin_store.js').then(({ storeAdmin }) => storeAdmin(store, keyring(a.dataDir)));
  const target = await admin;
  const fn = target[a.method] as ((...args: unknown[]) => Promise<unknown>) | undefined;
  if (typeof fn !== 'function') throw new Error(`AdminStore has no method ${String(a.method)}`);
  return fn.apply(target, a.args);
}
