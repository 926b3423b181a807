/**
 * A tenant's own MCP servers (from the store, admin API) on one worker. The
 * tool host keeps one layer per tenant: a registry of its own, holding the
 * tools of the servers' connections (as `mcp_<server>_<tool>`, as the config
 * file's servers are named), built when a run first needs it. A layer is
 * rebuilt when the tenant's servers change (their `version`s): runs already
 * holding the old one keep its connections until they end (a lease), and the
 * old one's clients are closed when its last run releases it. A server's
 * sealed headers or env are fetched from the store worker only when it connects,
 * and live only in its connection on this thread. Definitions are checked
 * again against this worker's limits (the stdio allowlist), whatever the store holds.
 */
import { rootLog } from '../observability/log.js';
import { checkServer, type McpServerConfig } from '../tools/mcp/config.js';
import type { McpManager, McpManagerOptions } from '../tools/mcp/manager.js';
import type { ToolRegistry } from '../tools/registry.js';
import type { AgentTool, Toolbox } from './agent_tools.js';

/** A tenant's MCP server as pushed to the workers: its definition without any secret value. */
export interface TenantMcpServer {
  id: string;
  /** The config file's entry without its headers' or env's values (their names in `headerNames` / `envNames`). */
  definition: Record<string, unknown>;
  /** Sealed values are in the store for it (fetched when it connects). */
  sealed: boolean;
  /** Changes with every change of the server or its values (their updatedAt). */
  version: string;
}

/** The opened headers (HTTP) or env (stdio) of a tenant's server, from the store worker; null when none. */
export type FetchMcpSecrets = (tenant: string, serverId: string) => Promise<Record<string, string> | null>;

/** The tools of a tenant's servers for one run; `release` once the run ends (idempotent). */
export interface TenantToolLease {
  tools: AgentTool[];
  release(): void;
}

export interface TenantMcpOptions {
  /** A fresh registry for a layer (the host's timeouts and injection screening). */
  registry(): ToolRegistry;
  /** The registry's tools as agents call them. */
  toolbox(registry: ToolRegistry): Toolbox;
  mcp: McpManagerOptions;
  /** Tenants whose layers one worker keeps; the least recently used is closed (after its runs) past it. Default 64. */
  maxTenants?: number;
}

interface Built {
  manager: McpManager;
  toolbox: Toolbox;
}

interface Layer {
  version: string;
  built: Promise<Built>;
  leases: number;
  retired: boolean;
}

const NONE: TenantToolLease = { tools: [], release: () => undefined };

const versionOf = (servers: readonly TenantMcpServer[]): string => servers.map((s) => `${s.id}@${s.version}`).join(',');

/** The connectable config: the stored definition with its values put back under `headers` or `env`. */
function configOf(server: TenantMcpServer, values: Record<string, string> | null): McpServerConfig {
  const { headerNames: _h, envNames: _e, ...rest } = server.definition;
  if (values === null) return rest as unknown as McpServerConfig;
  return { ...rest, [typeof rest.url === 'string' ? 'headers' : 'env']: values } as unknown as McpServerConfig;
}

export class TenantMcpLayers {
  readonly #layers = new Map<string, Layer>();
  readonly #options: TenantMcpOptions;

  constructor(options: TenantMcpOptions) {
    this.#options = options;
  }

  /** Tenants with a layer now. */
  get size(): number {
    return this.#layers.size;
  }

  /** The tools of `servers` for one run of `tenant`, connecting them first if they changed. */
  async acquire(tenant: string, servers: readonly TenantMcpServer[], fetchSecrets: FetchMcpSecrets): Promise<TenantToolLease> {
    let layer = this.#layers.get(tenant);
    if (servers.length === 0) {
      if (layer !== undefined) this.#drop(tenant, layer);
      return NONE;
    }
    const version = versionOf(servers);
    if (layer !== undefined && layer.version === version) {
      // Most recently used last.
      this.#layers.delete(tenant);
      this.#layers.set(tenant, layer);
    } else {
      if (layer !== undefined) this.#drop(tenant, layer);
      if (this.#layers.size >= (this.#options.maxTenants ?? 64)) {
        const [oldest, old] = this.#layers.entries().next().value as [string, Layer];
        this.#drop(oldest, old);
      }
      const fresh: Layer = { version, built: this.#build(tenant, servers, fetchSecrets), leases: 0, retired: false };
      // A failed build (a value that could not be fetched) is not kept: the next run tries again.
      fresh.built.catch(() => {
        if (this.#layers.get(tenant) === fresh) this.#layers.delete(tenant);
      });
      this.#layers.set(tenant, fresh);
      layer = fresh;
    }
    const held = layer;
    held.leases++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      held.leases--;
      if (held.retired && held.leases === 0) this.#close(held);
    };
    try {
      return { tools: (await held.built).toolbox.tools(), release };
    } catch (err) {
      release();
      throw err;
    }
  }

  /** Closes every layer now (the tool host stops). */
  async close(): Promise<void> {
    const all = [...this.#layers.values()];
    this.#layers.clear();
    await Promise.all(all.map((l) => l.built.then((b) => b.manager.close(), () => undefined)));
  }

  #drop(tenant: string, layer: Layer): void {
    this.#layers.delete(tenant);
    layer.retired = true;
    if (layer.leases === 0) this.#close(layer);
  }

  #close(layer: Layer): void {
    void layer.built.then((b) => b.manager.close(), () => undefined).catch((err: unknown) => {
      rootLog().warn('closing a tenant\'s MCP servers failed', { error: String(err) });
    });
  }

  async #build(tenant: string, servers: readonly TenantMcpServer[], fetchSecrets: FetchMcpSecrets): Promise<Built> {
    // The MCP SDK (~10 MB of heap per worker) is loaded only once a tenant has servers.
    const { McpManager } = await import('../tools/mcp/manager.js');
    const values = await Promise.all(servers.map((s) => (s.sealed ? fetchSecrets(tenant, s.id) : Promise.resolve(null))));
    const registry = this.#options.registry();
    const manager = new McpManager(registry, this.#options.mcp);
    await Promise.all(servers.map(async (server, i) => {
      const log = { tenant, server: server.id };
      try {
        const config = checkServer(server.id, configOf(server, values[i]), this.#options.mcp.stdioLimits);
        const started = await manager.add(server.id, config);
        // Not connected yet: it keeps retrying in the background, and its tools appear when it answers.
        if (!started.ok) rootLog().warn('a tenant\'s MCP server did not connect', { ...log, error: started.error?.message });
      } catch (err) {
        // Refused by this worker's limits (say the allowlist changed since it was stored): the others still serve.
        rootLog().warn('a tenant\'s MCP server was refused', { ...log, error: String(err) });
      }
    }));
    return { manager, toolbox: this.#options.toolbox(registry) };
  }
}
