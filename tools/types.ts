/**
 * The contract of a tool: what the registry calls, what it passes in and what
 * comes back. `parameters` is the JSON Schema the registry validates arguments
 * against before `run` is called, so `run` may trust the shape of `args`.
 */
import type { JsonSchema } from './schema.js';

export type { JsonSchema };

/** Per-call context, built by the registry for each invocation. */
export interface ToolContext {
  /** Fires when the caller aborts, or just after `timeoutMs` (a grace lets the tool report its own timeout first). */
  readonly signal: AbortSignal;
  readonly sessionId: string;
  readonly tenant: string;
  /** The calling agent, when an agent calls (memory scopes). */
  readonly agentId?: string;
  /** The caller's team, when it works in one as its lead, a member or a reviewer (memory scope `team`). */
  readonly teamId?: string;
  /** Absolute path of the session's workspace; file tools and exec are confined to it. */
  readonly workspaceDir: string;
  /** The deadline of this call, ms from its start. */
  readonly timeoutMs: number;
}

export interface ToolResult {
  /** Text handed to the model. */
  content: string;
  /** The tool ran but reports a failure the model should see (e.g. a command exited non-zero). */
  isError?: boolean;
  /** Content came from outside (web, MCP server): the registry screens it and wraps it as untrusted data. */
  untrusted?: boolean;
  /** Set by the registry when `content` was cut to the output limit. */
  truncated?: boolean;
  /** Structured result for programmatic callers; never shown to the model as is. */
  data?: unknown;
}

export interface ToolDefinition {
  /** Unique in a registry; `^[A-Za-z0-9_-]{1,64}$` (what every provider accepts). */
  readonly name: string;
  readonly description: string;
  readonly parameters: JsonSchema;
  /** Read-only tools change nothing, so an agent may run several of them in parallel. */
  readonly readOnly: boolean;
  /** Policy group, e.g. 'fs', 'web', 'exec', 'memory', 'mcp', 'agent'. */
  readonly group?: string;
  /** Overrides the registry's default per-call timeout. */
  readonly timeoutMs?: number;
  run(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult>;
}

/** What a caller of `ToolRegistry.invoke` supplies; the registry adds the signal and deadline. */
export interface InvokeContext {
  readonly sessionId: string;
  readonly tenant: string;
  readonly agentId?: string;
  readonly teamId?: string;
  readonly workspaceDir: string;
  readonly signal?: AbortSignal;
  /** Caps the tool's own timeout (the smaller one wins). */
  readonly timeoutMs?: number;
}
