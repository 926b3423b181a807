/**
 * The admin API's data access, in one interface: every store operation a
 * /admin/v1 handler needs, with plain data in and out. `storeAdmin` runs them
 * on a Store, on the store worker: the gateway's edge holds
 * `StoreClient.admin()` (gateway/store_client.ts), which forwards each call
 * there as a named call (gateway/store_calls.ts `adminStore`). Every change is audited in the
 * tenant's chain by the shared functions the CLI uses too.
 */
import type { Agent, ApiKey, AuditEvent, AuditRecord, ChainVerdict, ChannelPairing, Store, StoredMcpServer, StoredProvider, Tenant } from '../../store/index.js';
import { agentsForTenant, deleteAgent, putAgent, seedAgents, type AgentDefinition } from '../admin_agents.js';
import { deleteProvider, getProvider, listProviders, putProvider, type ProviderView } from '../admin_providers.js';
import { deleteMcpServer, getMcpServer, listMcpServers, putMcpServer, seedMcpServers } from '../admin_mcp.js';
import type { McpServerConfig } from '../../tools/mcp/config.js';
import { createApiKey, revokeApiKey, type NewKey } from '../admin_keys.js';
import { rotateSecrets, setSecret, type OpenBox, type RotateReport } from '../admin_secrets.js';
import { auditAdmin, diffFields, ensureTenant, type AdminActor } from '../admin_support.js';

export interface AdminStore {
  tenantExists(id: string): Promise<boolean>;
  /** Creates the tenant unless it exists (a caller's own tenant, before its first change). */
  ensureTenant(id: string): Promise<void>;
  listTenants(limit: number): Promise<Tenant[]>;
  getTenant(id: string): Promise<Tenant | null>;
  /** Audited in the new tenant's chain. */
  createTenant(input: { id: string; name: string }, who: AdminActor): Promise<Tenant>;

  /** Gives the tenant the config file's agents, once ever (creating the tenant if needed). */
  seedAgents(tenant: string, seed: AgentDefinition[]): Promise<boolean>;
  listAgents(tenant: string, limit: number): Promise<Agent[]>;
  getAgent(tenant: string, id: string): Promise<Agent | null>;
  /** Creates or replaces; audited with a diff of the definition's fields. */
  putAgent(tenant: string, id: string, definition: Record<string, unknown>, who: AdminActor): Promise<{ agent: Agent; created: boolean }>;
  /** Null when the tenant has no such agent (audited as a failure). */
  deleteAgent(tenant: string, id: string, who: AdminActor): Promise<Agent | null>;

  listProviders(tenant: string, limit: number): Promise<ProviderView[]>;
  getProvider(tenant: string, id: string): Promise<ProviderView | null>;
  /**
   * Creates (INVALID_REQUEST too_many when the tenant holds `max` already, checked in the put's transaction) or
   * replaces; `apiKey` string: sealed; null: removed; undefined: kept. Audited without the key.
   */
  putProvider(tenant: string, id: string, spec: Record<string, unknown>, apiKey: string | null | undefined, who: AdminActor, max: number): Promise<ProviderView>;
  /** Null when the tenant has no such provider (audited as a failure). */
  deleteProvider(tenant: string, id: string, who: AdminActor): Promise<StoredProvider | null>;

  /** Gives the tenant the config file's MCP servers, once ever (creating the tenant if needed); their values sealed. */
  seedMcpServers(tenant: string, seed: Record<string, McpServerConfig>): Promise<boolean>;
  listMcpServers(tenant: string, limit: number): Promise<StoredMcpServer[]>;
  getMcpServer(tenant: string, id: string): Promise<StoredMcpServer | null>;
  /**
   * Creates (INVALID_REQUEST too_many when the tenant holds `max` already, checked in the put's transaction) or
   * replaces; `values` (headers or env) object: sealed; null: removed; undefined: kept. Audited without values.
   */
  putMcpServer(
    tenant: string, id: string, definition: Record<string, unknown>, values: Record<string, string> | null | undefined, who: AdminActor, max: number,
  ): Promise<StoredMcpServer>;
  /** Null when the tenant has no such server (audited as a failure). */
  deleteMcpServer(tenant: string, id: string, who: AdminActor): Promise<StoredMcpServer | null>;

  listKeys(tenant: string, limit: number): Promise<ApiKey[]>;
  createKey(tenant: string, input: NewKey, who: AdminActor): Promise<{ key: string; record: ApiKey }>;
  /** NOT_FOUND for an id the tenant does not have; the hash is for cache invalidation. */
  revokeKey(tenant: string, id: string, who: AdminActor): Promise<{ hash: string; revokedAt: Date }>;

  listSecretNames(tenant: string, limit: number): Promise<string[]>;
  setSecret(tenant: string, name: string, value: string, who: AdminActor): Promise<{ keyVersion: number; created: boolean }>;
  rotateSecrets(tenant: string, who: AdminActor): Promise<RotateReport & { keyVersion: number }>;

  /** One row in the tenant's chain (refusals; the changes above audit themselves). */
  audit(tenant: string, event: AuditEvent): Promise<void>;
  listAudit(tenant: string, opts: { afterSeq: number; limit: number }): Promise<AuditRecord[]>;
  verifyAudit(tenant: string): Promise<ChainVerdict>;

  listPairings(tenant: string, channelId: string): Promise<ChannelPairing[]>;
  /** The approved user, or null when no pending request holds the code (audited either way). */
  approvePairing(tenant: string, channelId: string, code: string, who: AdminActor): Promise<string | null>;
  /** Removes a request or an approval; false when the user had none (audited either way). */
  denyPairing(tenant: string, channelId: string, userId: string, who: AdminActor): Promise<boolean>;
}

/**
 * `openBox`: the keyring that seals and opens tenant secrets, opened on first use; the store worker
 * shares one between this and the chat path's calls (gateway/store_calls.ts).
 */
export function storeAdmin(store: Store, openBox: () => Promise<OpenBox>): AdminStore {
  return {
    tenantExists: async (id) => (await store.tenants.get(id)) !== null,
    ensureTenant: async (id) => { await ensureTenant(store, id); },
    listTenants: (limit) => store.tenants.list({ limit }),
    getTenant: (id) => store.tenants.get(id),
    async createTenant(input, who) {
      const tenant = await store.tenants.create(input);
      await store.withTenant(tenant.id, (s) => auditAdmin(s, 'admin.tenant.create', 'success', tenant.id, {
        changes: diffFields(undefined, { id: tenant.id, name: tenant.name }),
      }, who));
      return tenant;
    },

    seedAgents: (tenant, seed) => seedAgents(store, tenant, seed),
    listAgents: (tenant, limit) => agentsForTenant(store, tenant, limit),
    getAgent: (tenant, id) => store.withTenant(tenant, (s) => s.agents.getByName(id)),
    putAgent: (tenant, id, definition, who) => putAgent(store, tenant, id, definition, who),
    deleteAgent: (tenant, id, who) => deleteAgent(store, tenant, id, who),

    listProviders: (tenant, limit) => listProviders(store, tenant, limit),
    getProvider: (tenant, id) => getProvider(store, tenant, id),
    putProvider: async (tenant, id, spec, apiKey, who, max) => putProvider(store, await openBox(), tenant, id, spec, apiKey, who, max),
    deleteProvider: (tenant, id, who) => deleteProvider(store, tenant, id, who),

    seedMcpServers: (tenant, seed) => seedMcpServers(store, openBox, tenant, seed),
    listMcpServers: (tenant, limit) => listMcpServers(store, tenant, limit),
    getMcpServer: (tenant, id) => getMcpServer(store, tenant, id),
    putMcpServer: (tenant, id, definition, values, who, max) => putMcpServer(store, openBox, tenant, id, definition, values, who, max),
    deleteMcpServer: (tenant, id, who) => deleteMcpServer(store, tenant, id, who),

    listKeys: (tenant, limit) => store.withTenant(tenant, (s) => s.apiKeys.list({ limit })),
    createKey: (tenant, input, who) => createApiKey(store, tenant, input, who),
    revokeKey: (tenant, id, who) => revokeApiKey(store, tenant, id, who),

    listSecretNames: (tenant, limit) => store.withTenant(tenant, (s) => s.secrets.listNames({ limit })),
    async setSecret(tenant, name, value, who) {
      const box = await openBox();
      const { created } = await setSecret(store, box, tenant, name, value, who);
      return { keyVersion: box.version, created };
    },
    async rotateSecrets(tenant, who) {
      const box = await openBox();
      return { ...(await rotateSecrets(store, box, tenant, who)), keyVersion: box.version };
    },

    audit: async (tenant, event) => {
      await ensureTenant(store, tenant);
      await store.withTenant(tenant, (s) => s.audit.append(event));
    },
    listAudit: (tenant, { afterSeq, limit }) => store.withTenant(tenant, (s) => s.audit.list({ afterSeq, limit })),
    verifyAudit: (tenant) => store.verifyAuditChain(tenant),

    listPairings: (tenant, channelId) => store.withTenant(tenant, (s) => s.channelPairings.list(channelId)),
    approvePairing: (tenant, channelId, code, who) => store.withTenant(tenant, async (s) => {
      const user = await s.channelPairings.approve(channelId, code);
      await auditAdmin(s, 'admin.pairing.approve', user === null ? 'failure' : 'success', `${channelId}:${user ?? '?'}`, {
        channel: channelId, ...(user === null ? { error: 'NOT_FOUND' } : { changes: diffFields({ status: 'pending' }, { status: 'approved' }) }),
      }, who);
      return user;
    }),
    denyPairing: (tenant, channelId, userId, who) => store.withTenant(tenant, async (s) => {
      const before = (await s.channelPairings.list(channelId)).find((p) => p.userId === userId);
      const removed = await s.channelPairings.revoke(channelId, userId);
      await auditAdmin(s, 'admin.pairing.deny', removed ? 'success' : 'failure', `${channelId}:${userId}`, {
        channel: channelId, ...(removed ? { changes: diffFields({ status: before?.status ?? null }, { status: null }) } : { error: 'NOT_FOUND' }),
      }, who);
      return removed;
    }),
  };
}
