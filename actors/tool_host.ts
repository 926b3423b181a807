/**
 * The tool host: one per worker. It builds that worker's tool registry
 * (built-ins and MCP servers, from the gateway's `tools` config) and installs
 * it as the toolbox its agents use. Stopping it closes the MCP connections.
 */
import { join } from 'node:path';
import type { ActorRef, Behavior } from '../runtime/index.js';
import type { MemoryRecord, MemoryScope, MemorySearchHit, MemoryStore } from '../tools/builtin/memory_store.js';
import type { PersistRequest } from './persistence.js';
import { Screener } from '../security/injection.js';
import { ToolRegistry } from '../tools/index.js';
import { registerBuiltins, type BuiltinToolsOptions } from '../tools/builtin/index.js';
import type { McpConfig } from '../tools/mcp/config.js';
import { McpManager } from '../tools/mcp/manager.js';
import { installToolbox, type AgentTool, type Toolbox } from './agent_tools.js';

export interface ToolsConfig {
  builtins?: BuiltinToolsOptions;
  mcpServers?: McpConfig['mcpServers'];
  /** Sessions' workspaces live under this folder: <workspaceRoot>/<tenant>/<session>. */
  workspaceRoot: string;
  defaultTimeoutMs?: number;
  /** Screening of untrusted tool output (web, MCP): log, warn or block. */
  injectionAction?: 'log' | 'warn' | 'block';
  /** The persistence actor: memory tools then use the store's vector memory. */
  memory?: ActorRef<PersistRequest>;
}

/** memory_save / memory_search on the store's hybrid memory, through the persistence actor. */
class ActorMemoryStore implements MemoryStore {
  constructor(private readonly ref: ActorRef<PersistRequest>) {}

  save(scope: MemoryScope, text: string, tags: readonly string[]): Promise<MemoryRecord> {
    return this.ref.ask<MemoryRecord>({ t: 'memory-save', tenant: scope.tenant, sessionId: scope.sessionId, text, tags: [...tags] }, { timeoutMs: 10_000 });
  }

  search(scope: MemoryScope, query: string, limit: number): Promise<MemorySearchHit[]> {
    return this.ref.ask<MemorySearchHit[]>({ t: 'memory-search', tenant: scope.tenant, query, limit }, { timeoutMs: 10_000 });
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

export function toolHost(args: ToolsConfig): Behavior<{ t: 'health' }> {
  let registry: ToolRegistry | undefined;
  let mcp: McpManager | undefined;
  return {
    async preStart() {
      registry = new ToolRegistry({
        ...(args.defaultTimeoutMs === undefined ? {} : { defaultTimeoutMs: args.defaultTimeoutMs }),
        screener: new Screener({ action: args.injectionAction ?? 'warn' }),
      });
      registerBuiltins(registry, { ...args.builtins, ...(args.memory === undefined ? {} : { memory: new ActorMemoryStore(args.memory) }) });
      if (args.mcpServers !== undefined && Object.keys(args.mcpServers).length > 0) {
        mcp = new McpManager(registry);
        await mcp.connect({ mcpServers: args.mcpServers });
      }
      installToolbox(registryToolbox(registry, args.workspaceRoot));
    },
    receive() {
      return { tools: registry?.list().length ?? 0, mcp: mcp?.health() };
    },
    async postStop() {
      installToolbox(undefined);
      await mcp?.close();
    },
  };
}
