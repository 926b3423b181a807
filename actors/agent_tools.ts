/**
 * What an agent can call: a Toolbox (the tool registry of its worker, when one
 * is installed) plus the agent's own tools (spawn_agent, sessions_list). The
 * agent offers the model only those its policy allows (tools/policy.ts).
 */
import type { ToolSpec } from '../providers/index.js';
import type { FetchMcpSecrets, TenantMcpServer, TenantToolLease } from './tenant_mcp.js';

export interface ToolOutcome {
  content: string;
  isError?: boolean;
}

export interface ToolCallContext {
  sessionId: string;
  tenant: string;
  signal: AbortSignal;
  /** The calling agent's id (memory scopes). */
  agentId?: string;
  /** The team the agent works in as its lead, a member or a reviewer (memory scope `team`; agent.ts memoryTeam). */
  teamId?: string;
}

/** A tool the agent can run: what the model sees, and how to run it. */
export interface AgentTool {
  spec: ToolSpec;
  /** Read-only tools may run in parallel; the rest run one at a time, in order. */
  readOnly: boolean;
  group?: string;
  run(args: Record<string, unknown>, ctx: ToolCallContext): Promise<ToolOutcome>;
}

/** A source of tools (e.g. the tools/ registry behind an adapter). */
export interface Toolbox {
  tools(): AgentTool[];
  /** The tools of a tenant's own MCP servers (admin API) for one run; absent: this toolbox offers none. */
  forTenant?(tenant: string, servers: readonly TenantMcpServer[], fetchSecrets: FetchMcpSecrets): Promise<TenantToolLease>;
}

/** Per-worker toolbox installed by the gateway (a worker builds its own registry). */
let installed: Toolbox | undefined;

export function installToolbox(toolbox: Toolbox | undefined): void {
  installed = toolbox;
}

export function installedToolbox(): Toolbox | undefined {
  return installed;
}
