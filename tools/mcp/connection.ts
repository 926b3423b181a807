/**
 * McpConnection: one MCP server, kept connected. States:
 *
 *   idle ─start─► connecting ─ok─► ready ─lost (close, failed ping)─► reconnecting
 *                     │                                                 │   ▲
 *                     └──fail──────────────────────────────────────────►│   │ backoff, retry
 *                                                                       ▼   │
 *          failed (maxReconnectAttempts spent, or a guard refused)  ◄── attempt
 *   close() from any state ─► closed
 *
 * Health: while ready, a ping every `healthIntervalMs`; one that fails or
 * times out counts as a lost connection. A stdio server that exits is noticed
 * at once (the transport closes). Each (re)connect, and each
 * `notifications/tools/list_changed`, lists the tools again and tells the
 * listeners, so the registry follows what the server offers.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker';
import { ToolError } from '../errors.js';
import type { JsonSchema } from '../types.js';
import { backoffDelay } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import { checkServer, isStdioConfig } from './config.js';
import type { McpServerConfig, StdioLimits } from './config.js';
import { mcpError } from './errors.js';
import { guardedFetch } from './guarded_fetch.js';
import type { GuardedFetchOptions } from './guarded_fetch.js';

export type McpState = 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'failed' | 'closed';

export interface McpHealth {
  name: string;
  transport: 'stdio' | 'http';
  state: McpState;
  tools: number;
  /** Failed attempts since the last good connection. */
  attempts: number;
  /** Successful reconnections since start. */
  reconnects: number;
  connectedAt?: number;
  lastPingAt?: number;
  nextRetryAt?: number;
  lastError?: string;
  /** Last lines the stdio server wrote to stderr (bounded). */
  stderrTail?: string;
}

export interface McpRemoteTool {
  name: string;
  description: string;
  inputSchema: JsonSchema;
  readOnly: boolean;
}

export interface McpConnectionOptions {
  /** Connect + initialize + list tools, ms (default 15 000). */
  connectTimeoutMs?: number;
  /** Ping period while ready, ms (default 15 000; 0 turns health checks off). */
  healthIntervalMs?: number;
  /** Default 5 000. */
  pingTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** Then the state is 'failed' and no more attempts are made (default: unlimited). */
  maxReconnectAttempts?: number;
  /** Most tools taken from one server (default 256). */
  maxTools?: number;
  stdioLimits?: StdioLimits;
  /** SSRF guard settings for HTTP servers. */
  http?: GuardedFetchOptions;
}

const CLIENT_INFO = { name: 'troupe', version: '0.1.0' };
const STDERR_TAIL = 4096;
const MAX_PAGES = 32;
const MAX_DESCRIPTION = 2048;
const MAX_SCHEMA_CHARS = 64 * 1024;
/** A burst of list_changed notifications costs one listing. */
const RELIST_DEBOUNCE_MS = 100;

/** A guard (SSRF) refused the address: retrying cannot help until the config changes. */
function refused(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'FORBIDDEN';
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class McpConnection {
  readonly name: string;
  readonly transportKind: 'stdio' | 'http';
  #config: McpServerConfig;
  #options: McpConnectionOptions;
  #state: McpState = 'idle';
  #client: Client | null = null;
  #transport: Transport | null = null;
  #tools: McpRemoteTool[] = [];
  #attempts = 0;
  #reconnects = 0;
  #connectedAt?: number;
  #lastPingAt?: number;
  #nextRetryAt?: number;
  #lastError?: string;
  #stderr = '';
  #retryTimer?: NodeJS.Timeout;
  #relistTimer?: NodeJS.Timeout;
  #healthTimer?: NodeJS.Timeout;
  #listeners = new Set<(tools: McpRemoteTool[]) => void>();
  #stateListeners = new Set<(state: McpState) => void>();

  /** Throws FORBIDDEN / INVALID_REQUEST when the server's config breaks the limits. */
  constructor(name: string, config: McpServerConfig, options: McpConnectionOptions = {}) {
    this.#config = checkServer(name, config, options.stdioLimits);
    this.name = name;
    this.transportKind = isStdioConfig(config) ? 'stdio' : 'http';
    this.#options = options;
  }

  get state(): McpState {
    return this.#state;
  }

  get tools(): readonly McpRemoteTool[] {
    return this.#tools;
  }

  /** Process id of a running stdio server, else null. */
  get pid(): number | null {
    return this.#transport instanceof StdioClientTransport ? this.#transport.pid : null;
  }

  /** Called with the tool list after every successful (re)connect. */
  onTools(listener: (tools: McpRemoteTool[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onState(listener: (state: McpState) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  health(): McpHealth {
    const h: McpHealth = {
      name: this.name, transport: this.transportKind, state: this.#state, tools: this.#tools.length,
      attempts: this.#attempts, reconnects: this.#reconnects,
    };
    if (this.#connectedAt !== undefined) h.connectedAt = this.#connectedAt;
    if (this.#lastPingAt !== undefined) h.lastPingAt = this.#lastPingAt;
    if (this.#nextRetryAt !== undefined) h.nextRetryAt = this.#nextRetryAt;
    if (this.#lastError !== undefined) h.lastError = this.#lastError;
    if (this.#stderr !== '') h.stderrTail = this.#stderr;
    return h;
  }

  /**
   * First connection. Resolves once ready; on failure rejects with
   * UNAVAILABLE and keeps retrying in the background with backoff.
   */
  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new ToolError('INVALID_REQUEST', 'mcp_already_started', `mcp server ${this.name} was started already`);
    this.#setState('connecting');
    try {
      await this.#attempt();
    } catch (err) {
      this.#failedAttempt(err);
      const code = refused(err) ? 'FORBIDDEN' : 'UNAVAILABLE';
      throw new ToolError(code, 'mcp_connect_failed', `mcp server ${this.name}: ${errorText(err)}`, { cause: err });
    }
  }

  /** Calls a tool on the server. UNAVAILABLE while not connected. */
  async callTool(tool: string, args: Record<string, unknown>, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
    const client = this.#client;
    if (client === null || this.#state !== 'ready') {
      throw new ToolError('UNAVAILABLE', 'mcp_unavailable', `mcp server ${this.name} is ${this.#state}`);
    }
    try {
      return (await client.callTool({ name: tool, arguments: args }, undefined, { signal: opts.signal, timeout: opts.timeoutMs })) as Record<string, unknown>;
    } catch (err) {
      throw mcpError(err, this.name, opts.signal);
    }
  }

  /** Checks the server now: a ping, or a reconnect if the ping fails. Resolves with the new health. */
  async checkHealth(): Promise<McpHealth> {
    const client = this.#client;
    if (client !== null && this.#state === 'ready') {
      try {
        await client.ping({ timeout: this.#options.pingTimeoutMs ?? 5_000 });
        this.#lastPingAt = Date.now();
      } catch (err) {
        this.#lost(client, `health check failed: ${errorText(err)}`);
      }
    }
    return this.health();
  }

  /** Disconnects (stopping a stdio server) and stops retrying. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#setState('closed');
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#relistTimer);
    clearInterval(this.#healthTimer);
    const client = this.#client;
    const transport = this.#transport;
    this.#client = null;
    this.#transport = null;
    // An HTTP server keeps a session until told otherwise; a stdio server just exits.
    if (client !== null && transport instanceof StreamableHTTPClientTransport) {
      await withTimeout(transport.terminateSession(), 2_000).catch(() => undefined);
    }
    await client?.close().catch(() => undefined);
  }

  #setState(state: McpState): void {
    if (this.#state === state) return;
    this.#state = state;
    for (const listener of this.#stateListeners) listener(state);
  }

  #makeTransport(): Transport {
    const config = this.#config;
    if (isStdioConfig(config)) {
      const transport = new StdioClientTransport({ command: config.command, args: config.args, env: config.env, cwd: config.cwd, stderr: 'pipe' });
      // Draining stderr matters: a full pipe would block the server.
      transport.stderr?.on('data', (chunk: Buffer) => {
        this.#stderr = (this.#stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
      });
      return transport;
    }
    return new StreamableHTTPClientTransport(new URL(config.url), {
      fetch: guardedFetch(this.#options.http),
      requestInit: { headers: { ...config.headers } },
    });
  }

  async #attempt(): Promise<void> {
    const transport = this.#makeTransport();
    // Tool output schemas are checked by an interpreter, not compiled to code (ajv, the SDK's default, would run
    // `new Function` on every server's schemas): an MCP server's schema never becomes code in the gateway.
    const client = new Client(CLIENT_INFO, { capabilities: {}, jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
    const timeout = this.#options.connectTimeoutMs ?? 15_000;
    client.onclose = () => this.#lost(client, 'connection closed');
    client.onerror = (err) => {
      this.#lastError = errorText(err);
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.#relistSoon(client));
    this.#transport = transport;
    try {
      await client.connect(transport, { timeout });
      const tools = await this.#listTools(client, timeout);
      if (this.#state === 'closed') throw new ToolError('UNAVAILABLE', 'mcp_closed', `mcp server ${this.name} was closed`);
      this.#client = client;
      this.#tools = tools;
    } catch (err) {
      if (this.#transport === transport) this.#transport = null;
      await client.close().catch(() => undefined);
      throw err;
    }
    if (this.#attempts > 0 || this.#connectedAt !== undefined) this.#reconnects++;
    this.#attempts = 0;
    this.#nextRetryAt = undefined;
    this.#connectedAt = Date.now();
    this.#setState('ready');
    this.#startHealthChecks();
    for (const listener of this.#listeners) listener(this.#tools);
  }

  async #listTools(client: Client, timeout: number): Promise<McpRemoteTool[]> {
    const max = this.#options.maxTools ?? 256;
    const tools: McpRemoteTool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES && tools.length < max; page++) {
      const res = await client.listTools(cursor === undefined ? undefined : { cursor }, { timeout });
      for (const t of res.tools.slice(0, max - tools.length)) {
        // An oversized schema would cost every request that lists the tools; such a tool is left out.
        if (JSON.stringify(t.inputSchema).length > MAX_SCHEMA_CHARS) continue;
        tools.push({
          name: t.name,
          description: (t.description ?? t.title ?? t.name).slice(0, MAX_DESCRIPTION),
          inputSchema: t.inputSchema as JsonSchema,
          readOnly: t.annotations?.readOnlyHint === true,
        });
      }
      cursor = res.nextCursor;
      if (cursor === undefined) break;
    }
    return tools;
  }

  /** The server said its tools changed: list them again (debounced) and tell the listeners. */
  #relistSoon(client: Client): void {
    if (this.#relistTimer !== undefined) return;
    this.#relistTimer = setTimeout(() => {
      this.#relistTimer = undefined;
      if (client !== this.#client) return;
      this.#listTools(client, this.#options.connectTimeoutMs ?? 15_000).then((tools) => {
        if (client !== this.#client) return;
        this.#tools = tools;
        for (const listener of this.#listeners) listener(tools);
      }, (err: unknown) => {
        if (client === this.#client) this.#lastError = `listing tools failed: ${errorText(err)}`;
      });
    }, RELIST_DEBOUNCE_MS);
    this.#relistTimer.unref();
  }

  #startHealthChecks(): void {
    clearInterval(this.#healthTimer);
    const every = this.#options.healthIntervalMs ?? 15_000;
    if (every <= 0) return;
    this.#healthTimer = setInterval(() => void this.checkHealth(), every);
    this.#healthTimer.unref();
  }

  /** The current client stopped working: drop it and start reconnecting. Stale clients are ignored. */
  #lost(client: Client, why: string): void {
    if (client !== this.#client || this.#state === 'closed') return;
    this.#client = null;
    this.#transport = null;
    this.#lastError = why;
    clearInterval(this.#healthTimer);
    clearTimeout(this.#relistTimer);
    this.#relistTimer = undefined;
    void client.close().catch(() => undefined);
    this.#setState('reconnecting');
    this.#scheduleRetry();
  }

  #failedAttempt(err: unknown): void {
    this.#lastError = errorText(err);
    if (this.#state === 'closed') return;
    this.#attempts++;
    if (refused(err)) {
      this.#setState('failed');
      return;
    }
    this.#setState('reconnecting');
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    const max = this.#options.maxReconnectAttempts ?? Infinity;
    if (this.#attempts >= max) {
      this.#nextRetryAt = undefined;
      this.#setState('failed');
      return;
    }
    const delay = backoffDelay(this.#attempts, this.#options.backoff);
    this.#nextRetryAt = Date.now() + delay;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      if (this.#state !== 'reconnecting') return;
      this.#attempt().catch((err: unknown) => this.#failedAttempt(err));
    }, delay);
    this.#retryTimer.unref();
  }
}
