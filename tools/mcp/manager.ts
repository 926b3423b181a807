/**
 * McpManager: connects the configured MCP servers and keeps their tools in a
 * ToolRegistry as `mcp_<server>_<tool>` (group 'mcp'). When a server
 * reconnects or announces a changed list, its tools are listed again and
 * the registry follows: new tools appear, vanished ones are removed. While a server is down its tools stay
 * listed and fail fast with UNAVAILABLE (retryable), so a model's plan does
 * not change under it for a blip.
 */
import { ToolError } from '../errors.js';
import type { ToolRegistry } from '../registry.js';
import type { ToolDefinition } from '../types.js';
import type { McpConfig, McpServerConfig } from './config.js';
import { checkMcpConfig } from './config.js';
import { McpConnection } from './connection.js';
import type { McpConnectionOptions, McpHealth, McpRemoteTool } from './connection.js';
import { mcpResultToToolResult } from './content.js';
import { mcpToolName } from './names.js';

export const MCP_GROUP = 'mcp';

export interface McpManagerOptions extends McpConnectionOptions {
  /** Per tool call (default 60 s; the caller's deadline also applies). */
  callTimeoutMs?: number;
}

export interface McpStartResult {
  name: string;
  ok: boolean;
  tools: number;
  error?: ToolError;
}

export class McpManager {
  readonly #registry: ToolRegistry;
  readonly #options: McpManagerOptions;
  readonly #connections = new Map<string, McpConnection>();
  /** Registry names each server owns now. */
  readonly #owned = new Map<string, Set<string>>();

  constructor(registry: ToolRegistry, options: McpManagerOptions = {}) {
    this.#registry = registry;
    this.#options = options;
  }

  /**
   * Adds one server and connects it. Throws at once (FORBIDDEN,
   * INVALID_REQUEST) when its config breaks the limits; resolves even when the
   * first connection fails, with `ok: false`: it keeps retrying in the background.
   */
  async add(name: string, config: McpServerConfig): Promise<McpStartResult> {
    if (this.#connections.has(name)) throw new ToolError('INVALID_REQUEST', 'duplicate_mcp_server', `mcp server ${name} is already added`);
    const connection = new McpConnection(name, config, this.#options);
    this.#connections.set(name, connection);
    connection.onTools((tools) => this.#sync(connection, tools));
    try {
      await connection.start();
      return { name, ok: true, tools: connection.tools.length };
    } catch (err) {
      return { name, ok: false, tools: 0, error: err instanceof ToolError ? err : new ToolError('UNAVAILABLE', 'mcp_connect_failed', String(err)) };
    }
  }

  /** Validates the whole block first (nothing starts if any entry is refused), then connects all servers in parallel. */
  async connect(config: McpConfig): Promise<McpStartResult[]> {
    checkMcpConfig(config, this.#options.stdioLimits);
    return Promise.all(Object.entries(config.mcpServers).map(([name, server]) => this.add(name, server)));
  }

  get(name: string): McpConnection | undefined {
    return this.#connections.get(name);
  }

  health(): McpHealth[] {
    return [...this.#connections.values()].map((c) => c.health());
  }

  /** Removes one server and its tools. */
  async remove(name: string): Promise<boolean> {
    const connection = this.#connections.get(name);
    if (connection === undefined) return false;
    this.#connections.delete(name);
    for (const tool of this.#owned.get(name) ?? []) this.#registry.unregister(tool);
    this.#owned.delete(name);
    await connection.close();
    return true;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#connections.keys()].map((name) => this.remove(name)));
  }

  #sync(connection: McpConnection, tools: McpRemoteTool[]): void {
    const before = this.#owned.get(connection.name) ?? new Set<string>();
    const now = new Set<string>();
    for (const remote of tools) {
      const definition = this.#definition(connection, remote);
      if (now.has(definition.name)) continue;
      try {
        this.#registry.register(definition, { replace: before.has(definition.name) });
        now.add(definition.name);
      } catch {
        // Full registry or a name taken by another server's tool: that tool is skipped, the others still register.
      }
    }
    for (const name of before) if (!now.has(name)) this.#registry.unregister(name);
    this.#owned.set(connection.name, now);
  }

  #definition(connection: McpConnection, remote: McpRemoteTool): ToolDefinition {
    const callTimeoutMs = this.#options.callTimeoutMs ?? 60_000;
    return {
      name: mcpToolName(connection.name, remote.name),
      description: remote.description,
      parameters: remote.inputSchema,
      readOnly: remote.readOnly,
      group: MCP_GROUP,
      timeoutMs: callTimeoutMs,
      async run(args, ctx) {
        const result = await connection.callTool(remote.name, args, { signal: ctx.signal, timeoutMs: ctx.timeoutMs });
        return mcpResultToToolResult(result);
      },
    };
  }
}
