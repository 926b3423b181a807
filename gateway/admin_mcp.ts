/**
 * A tenant's MCP servers in the store, on the store worker. A row holds the
 * server's definition as the config file's `tools.mcpServers` entry, minus its
 * credentials: the values of an HTTP server's `headers` or of a stdio
 * server's `env` are sealed (AES-256-GCM, the same `setSecret` as PUT
 * /admin/v1/secrets, so `troupe secrets rotate` re-seals them) into the secret
 * `mcp:<id>`, and the row keeps only their names (`headerNames`, `envNames`).
 * The values are opened only by `mcpSecretValues`, which a worker asks for
 * when it connects the server; never answered by the admin API, logged or audited.
 */
import type { TenantMcpServer } from '../actors/tenant_mcp.js';
import { secretContext } from '../security/secrets.js';
import type { Store, StoredMcpServer, TenantScope } from '../store/index.js';
import { MAX_SERVERS, type McpServerConfig } from '../tools/mcp/config.js';
import { admitCreation } from './admin_limits.js';
import { openSecret, sealSecret, type OpenBox } from './admin_secrets.js';
import { auditAdmin, deleteSealedRow, diffFields, ensureTenant, type AdminActor } from './admin_support.js';

/** Most MCP servers of one tenant: the config file's limit. */
const MAX_TENANT_MCP_SERVERS = MAX_SERVERS;

export const mcpSecretName = (id: string): string => `mcp:${id}`;

/** Which field of a definition holds its sealed values, and where their names are kept. */
const SEALED = [['headers', 'headerNames'], ['env', 'envNames']] as const;

/** The stored definition (no values) and the values to seal, of a definition as the config file writes it. */
export function splitMcpServer(server: McpServerConfig): { definition: Record<string, unknown>; values: Record<string, string> | undefined } {
  const definition: Record<string, unknown> = { ...server };
  let values: Record<string, string> | undefined;
  for (const [field, names] of SEALED) {
    const given = definition[field] as Record<string, string> | undefined;
    delete definition[field];
    if (given !== undefined && Object.keys(given).length > 0) {
      values = given;
      definition[names] = Object.keys(given).sort();
    }
  }
  return { definition, values };
}

const sealedNames = (definition: Record<string, unknown> | undefined): string[] | undefined =>
  (definition?.headerNames ?? definition?.envNames) as string[] | undefined;
const kindOf = (definition: Record<string, unknown> | undefined): 'http' | 'stdio' | undefined =>
  definition === undefined ? undefined : typeof definition.url === 'string' ? 'http' : 'stdio';

export function listMcpServers(store: Store, tenant: string, limit = MAX_TENANT_MCP_SERVERS): Promise<StoredMcpServer[]> {
  return store.withTenant(tenant, (s) => s.mcpServers.list({ limit }));
}

export function getMcpServer(store: Store, tenant: string, id: string): Promise<StoredMcpServer | null> {
  return store.withTenant(tenant, (s) => s.mcpServers.get(id));
}

/** The tenant's servers as the workers get them: definitions, whether values are sealed, and a version that changes with either. */
export function tenantMcpServers(store: Store, tenant: string): Promise<TenantMcpServer[]> {
  return store.withTenant(tenant, async (s) => Promise.all((await s.mcpServers.list({ limit: MAX_TENANT_MCP_SERVERS })).map(async (row) => {
    const secret = sealedNames(row.config) === undefined ? null : await s.secrets.get(mcpSecretName(row.id));
    return {
      id: row.id, definition: row.config, sealed: secret !== null,
      version: `${new Date(row.updatedAt).toISOString()}|${secret === null ? '-' : new Date(secret.updatedAt).toISOString()}`,
    };
  })));
}

async function sealInto(s: TenantScope, box: OpenBox, tenant: string, id: string, values: Record<string, string>): Promise<void> {
  const name = mcpSecretName(id);
  await s.secrets.put(name, { ciphertext: box.box.encrypt(JSON.stringify(values), secretContext(tenant, name)), keyVersion: box.version });
}

/**
 * Creates or replaces a server's definition, in one transaction with its
 * values: a new server is refused (too_many) once the tenant holds `max`,
 * before anything is sealed. `values` (the headers of an HTTP server, the env
 * of a stdio one): an object seals them (an empty one removes them), null
 * removes them, undefined keeps the stored ones when the server stays the
 * same kind. Audited with a diff of the definition, names included, values
 * never (their change is the `admin.secret.set` row).
 */
export async function putMcpServer(
  store: Store, box: () => Promise<OpenBox>, tenant: string, id: string, definition: Record<string, unknown>,
  values: Record<string, string> | null | undefined, who: AdminActor, max: number,
): Promise<StoredMcpServer> {
  const name = mcpSecretName(id);
  const names = SEALED[typeof definition.url === 'string' ? 0 : 1][1];
  const stored: Record<string, unknown> = { ...definition };
  for (const [, n] of SEALED) delete stored[n];
  const given = values != null && Object.keys(values).length > 0 ? values : undefined;
  // The keyring is opened (a file read, the first time) before the transaction, not while it holds the creation lock.
  const sealer = given === undefined ? undefined : await box();
  return store.withTenant(tenant, async (s) => {
    const current = await admitCreation(s.mcpServers, 'mcpServers', id, max);
    const keep = values === undefined && kindOf(current?.config) === kindOf(stored) ? sealedNames(current?.config) : undefined;
    if (given !== undefined && sealer !== undefined) {
      await sealSecret(s, sealer, name, JSON.stringify(given), who);
      stored[names] = Object.keys(given).sort();
    } else if (keep !== undefined) stored[names] = keep;
    else if ((await s.secrets.get(name)) !== null) await s.secrets.remove(name);
    const { row, before } = await s.mcpServers.put(id, stored);
    await auditAdmin(s, 'admin.mcp_server.put', 'success', id, {
      created: before === null, changes: diffFields(before?.config, stored),
    }, who);
    return row;
  });
}

/** The deleted server (its sealed values removed too), or null when the tenant has none by that id (audited either way). */
export function deleteMcpServer(store: Store, tenant: string, id: string, who: AdminActor): Promise<StoredMcpServer | null> {
  return deleteSealedRow(store, tenant, id, {
    action: 'admin.mcp_server.delete', get: (s) => s.mcpServers.get(id), remove: (s) => s.mcpServers.remove(id),
    secretOf: () => mcpSecretName(id), fields: (row) => row.config,
  }, who);
}

/**
 * Gives the tenant the config file's servers, once ever (creating the tenant
 * if needed): a server an admin deleted is not seeded back. Their headers or
 * env are sealed as a PUT would; the keyring is opened only if one has any.
 */
export async function seedMcpServers(store: Store, box: () => Promise<OpenBox>, tenant: string, seed: Record<string, McpServerConfig>): Promise<boolean> {
  await ensureTenant(store, tenant);
  const split = Object.entries(seed).map(([id, server]) => ({ id, ...splitMcpServer(server) }));
  const sealer = split.some((e) => e.values !== undefined) ? await box() : undefined;
  return store.withTenant(tenant, async (s) => {
    if (!(await s.mcpServers.markSeeded())) return false;
    for (const { id, definition, values } of split) {
      if (values !== undefined && sealer !== undefined) await sealInto(s, sealer, tenant, id, values);
      await s.mcpServers.put(id, definition);
    }
    return true;
  });
}

/** The opened headers or env of a tenant's server, for the worker that connects it; null when none are stored. */
export async function mcpSecretValues(store: Store, box: OpenBox, tenant: string, id: string): Promise<Record<string, string> | null> {
  const opened = await openSecret(store, box, tenant, mcpSecretName(id));
  return opened === null ? null : JSON.parse(opened) as Record<string, string>;
}
