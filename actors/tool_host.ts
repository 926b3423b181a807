/**
 * The tool host: one per worker. It builds that worker's tool registry
 * (built-ins, MCP servers and isolated JS tools, from the gateway's `tools`
 * config) and installs it as the toolbox its agents use. Isolated tools run on
 * the host's own TaskPool, made at their first call. The host counts
 * prompt-injection matches in tool output and reports them when asked for
 * `metrics` (the gateway's /metrics asks every host at scrape time).
 * Stopping it closes the MCP connections and the pool.
 */
import { join } from 'node:path';
import type { ActorRef, Behavior } from '../runtime/index.js';
import type { TaskPool } from '../runtime/tasks.js';
import type { MemoryRecord, MemorySearchHit, MemoryStore } from '../tools/builtin/memory_store.js';
import type { PersistRequest } from './persistence.js';
import { Screener, type InjectionFamily, type InjectionMatch, type ScreenAction } from '../security/injection.js';
import { rootLog } from '../observability/log.js';
import { ToolRegistry } from '../tools/registry.js';
import { registerBuiltins, type BuiltinToolsOptions } from '../tools/builtin/index.js';
import { isolatedTool, type IsolatedToolSpec } from '../tools/isolated.js';
import type { McpConfig } from '../tools/mcp/config.js';
import type { GuardedFetchOptions } from '../tools/mcp/guarded_fetch.js';
import type { McpManager, McpManagerOptions } from '../tools/mcp/manager.js';
import { installToolbox, type AgentTool, type Toolbox } from './agent_tools.js';
import { TenantMcpLayers } from './tenant_mcp.js';

/** An isolated tool as configured; `module` is a file: URL. readOnly defaults to false, group to 'isolated'. */
export type IsolatedToolConfig = Omit<IsolatedToolSpec, 'readOnly'> & { readOnly?: boolean };

/** The TaskPool each tool host makes for its isolated tools. */
export interface IsolatedPoolConfig {
  /** Threads per tool host (default 2). */
  maxThreads?: number;
  /** Calls that may wait for a thread (default 64); more fail with OVERLOADED task_queue_full. */
  maxQueue?: number;
  /** An idle thread exits after this long (default 10 s). */
  idleTimeoutMs?: number;
  /** V8 old-generation limit per thread, MB (default 128); a task past it fails with task_out_of_memory. */
  maxHeapMb?: number;
}

/** McpManagerOptions as plain data (a config file cannot hold a resolver function). */
export type McpOptionsConfig = Omit<McpManagerOptions, 'http'> & { http?: Omit<GuardedFetchOptions, 'resolver'> };

export interface ToolsConfig {
  /** Built-in tools' options; memory tools get their store from `memory` below, not from here. */
  builtins?: Omit<BuiltinToolsOptions, 'memory'>;
  /** Every tenant's MCP servers (without a store; with one, tenants' own servers come with their agents, seeded from the file's). */
  mcpServers?: McpConfig['mcpServers'];
  /** MCP manager options: stdioLimits (the command allowlist), http.allowHosts, timeouts. */
  mcp?: McpOptionsConfig;
  /** JS tools that run on the host's TaskPool, with a deadline and resource limits. */
  isolated?: IsolatedToolConfig[];
  isolatedPool?: IsolatedPoolConfig;
  /** Sessions' workspaces live under this folder: <workspaceRoot>/<tenant>/<session>. */
  workspaceRoot: string;
  defaultTimeoutMs?: number;
  /** Screening of untrusted tool output (web, MCP): log, warn or block. */
  injectionAction?: ScreenAction;
  /** The persistence actor: memory tools then use the store's vector memory. */
  memory?: ActorRef<PersistRequest>;
}

export type ToolHostMessage = { t: 'health' } | { t: 'metrics' };

export interface InjectionCount {
  family: InjectionFamily;
  source: string;
  action: ScreenAction;
  count: number;
}

export interface ToolHostMetrics {
  injection: InjectionCount[];
}

export const DEFAULT_ISOLATED_POOL = { maxThreads: 2, maxQueue: 64, idleTimeoutMs: 10_000, maxHeapMb: 128 } as const;
/** Distinct (family, source) pairs counted; past it, sources are lumped as 'tool:other'. */
const MAX_INJECTION_KEYS = 1024;

/** memory_save / memory_search on the store's hybrid memory, through the persistence actor. */
class ActorMemoryStore implements MemoryStore {
  constructor(private readonly ref: ActorRef<PersistRequest>) {}

  // Real embeddings are a network call on the way (providers' embedding endpoints): allow for it.
  save(tenant: string, namespace: string, text: string, tags: readonly string[]): Promise<MemoryRecord> {
    return this.ref.ask<MemoryRecord>({ t: 'memory-save', tenant, namespace, text, tags: [...tags] }, { timeoutMs: 30_000 });
  }

  search(tenant: string, namespaces: readonly string[], query: string, limit: number): Promise<MemorySearchHit[]> {
    return this.ref.ask<MemorySearchHit[]>({ t: 'memory-search', tenant, namespaces: [...namespaces], query, limit }, { timeoutMs: 30_000 });
  }
}

/** Each session gets its own workspace folder; names are made filesystem-safe. */
function workspaceFor(root: string, tenant: string, sessionId: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 128) || '_';
  return join(root, safe(tenant), safe(sessionId));
}

/** Wraps the registry's tools for agents; the wrappers are rebuilt only when the registry changes. */
export function registryToolbox(registry: ToolRegistry, workspaceRoot: string): Toolbox {
  let cached: AgentTool[] | undefined;
  registry.onChange(() => {
    cached = undefined;
  });
  return {
    tools(): AgentTool[] {
      return (cached ??= registry.list().map((def): AgentTool => ({
        spec: { name: def.name, description: def.description, parameters: def.parameters },
        readOnly: def.readOnly,
        ...(def.group === undefined ? {} : { group: def.group }),
        async run(args, ctx) {
          try {
            const r = await registry.invoke(def.name, args, {
              sessionId: ctx.sessionId, tenant: ctx.tenant, signal: ctx.signal,
              workspaceDir: workspaceFor(workspaceRoot, ctx.tenant, ctx.sessionId),
              ...(ctx.agentId === undefined ? {} : { agentId: ctx.agentId }),
              ...(ctx.teamId === undefined ? {} : { teamId: ctx.teamId }),
            });
            return { content: r.content, ...(r.isError ? { isError: true } : {}) };
          } catch (err) {
            const asResult = (err as { toResult?: () => { content: string } }).toResult;
            if (typeof asResult === 'function') return { content: asResult.call(err).content, isError: true };
            throw err;
          }
        },
      })));
    },
  };
}

/** Counts injection matches in tool output by (family, source) and logs each one. */
class InjectionTally {
  readonly #counts = new Map<string, InjectionCount>();

  constructor(readonly action: ScreenAction) {}

  record(family: InjectionFamily, source: string, match: InjectionMatch): void {
    let key = `${family}\u0000${source}`;
    if (!this.#counts.has(key) && this.#counts.size >= MAX_INJECTION_KEYS) {
      source = 'tool:other';
      key = `${family}\u0000${source}`;
    }
    const entry = this.#counts.get(key) ?? { family, source, action: this.action, count: 0 };
    entry.count++;
    this.#counts.set(key, entry);
    // 'log' is an info line; 'warn' and 'block' are warnings (block also fails the call).
    const level = this.action === 'log' ? 'info' : 'warn';
    rootLog()[level]('prompt injection in tool output', { source, family, action: this.action, excerpt: match.excerpt });
  }

  snapshot(): InjectionCount[] {
    return [...this.#counts.values()].map((c) => ({ ...c }));
  }
}

export function toolHost(args: ToolsConfig): Behavior<ToolHostMessage> {
  let registry: ToolRegistry | undefined;
  let mcp: McpManager | undefined;
  let tenants: TenantMcpLayers | undefined;
  let pool: TaskPool | undefined;
  const tally = new InjectionTally(args.injectionAction ?? 'warn');
  const poolOptions = { ...DEFAULT_ISOLATED_POOL, ...args.isolatedPool };
  // piscina (~9 MB of RSS per worker) is imported only where isolated tools are configured.
  let makePool: (() => TaskPool) | undefined;
  const taskPool = (): TaskPool => (pool ??= (makePool as () => TaskPool)());
  return {
    async preStart() {
      if ((args.isolated ?? []).length > 0) {
        const { TaskPool: Pool } = await import('../runtime/tasks.js');
        makePool = () => new Pool({
          maxThreads: poolOptions.maxThreads,
          maxQueue: poolOptions.maxQueue,
          idleTimeoutMs: poolOptions.idleTimeoutMs,
          resourceLimits: { maxOldGenerationSizeMb: poolOptions.maxHeapMb },
        });
      }
      const screener = new Screener({ action: tally.action, onMatch: (family, source, match) => tally.record(family, source, match) });
      const newRegistry = () => new ToolRegistry({ ...(args.defaultTimeoutMs === undefined ? {} : { defaultTimeoutMs: args.defaultTimeoutMs }), screener });
      registry = newRegistry();
      registerBuiltins(registry, { ...args.builtins, ...(args.memory === undefined ? {} : { memory: new ActorMemoryStore(args.memory) }) });
      for (const spec of args.isolated ?? []) {
        registry.register(isolatedTool({ ...spec, readOnly: spec.readOnly ?? false, group: spec.group ?? 'isolated' }, taskPool));
      }
      if (args.mcpServers !== undefined && Object.keys(args.mcpServers).length > 0) {
        // The MCP SDK (~10 MB of heap per worker) is loaded only where servers are configured.
        const { McpManager } = await import('../tools/mcp/manager.js');
        mcp = new McpManager(registry, args.mcp ?? {});
        await mcp.connect({ mcpServers: args.mcpServers });
      }
      // Tenants' own servers (admin API): a registry per tenant, connected at its first run.
      const layers = tenants = new TenantMcpLayers({ registry: newRegistry, toolbox: (r) => registryToolbox(r, args.workspaceRoot), mcp: args.mcp ?? {} });
      installToolbox({ ...registryToolbox(registry, args.workspaceRoot), forTenant: (tenant, servers, fetch) => layers.acquire(tenant, servers, fetch) });
    },
    receive(msg): ToolHostMetrics | { tools: number; mcp: unknown; tenantMcp: number; pool: unknown } {
      if (msg.t === 'metrics') return { injection: tally.snapshot() };
      return { tools: registry?.list().length ?? 0, mcp: mcp?.health(), tenantMcp: tenants?.size ?? 0, pool: pool?.metrics() };
    },
    async postStop() {
      installToolbox(undefined);
      await Promise.all([mcp?.close(), tenants?.close(), pool?.destroy()]);
    },
  };
}
