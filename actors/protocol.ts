/**
 * Messages between the backend (main thread), session actors and agent actors
 * (workers), and the run-event router. Everything here crosses threads, so it is
 * plain data (msgpack) apart from ActorRefs, which the runtime carries.
 */
import type { ChatMessage, ProviderConfig, ToolSpec } from '../providers/index.js';
import type { ActorRef } from '../runtime/index.js';
import type { ChatEventName, RunProgress } from './chat_contract.js';
import type { ToolPolicyConfig } from '../tools/policy.js';
import type { LoopLimits } from './loop_detector.js';
import type { PersistRequest } from './persistence.js';
import type { ChainEntry } from './provider/chain.js';
import type { TenantMcpServer } from './tenant_mcp.js';
import type { TenantProvider } from './provider/tenant_layers.js';
import type { TeamRequest } from './team/protocol.js';

/** An agent as configured: what answers `chat.send` for `agent: id`. */
export interface AgentConfig {
  id: string;
  description?: string;
  systemPrompt?: string;
  /** Without a chain: the model asked of `provider` (required then). */
  model?: string;
  /** Without a chain: the provider called directly (required then). */
  provider?: ProviderConfig;
  /**
   * Models to try in order through the provider actors (ids from the gateway's
   * `providers`): retries, circuit breakers and failover apply. Absent: `provider` directly.
   */
  chain?: ChainEntry[];
  /** Think→act→observe iterations per run (default 20). */
  maxIterations?: number;
  /** Estimated tokens the conversation may take before older turns are summarised (default 32k). */
  contextTokens?: number;
  /** Which tools the model is offered: names and `group:<name>`; deny wins (tools/policy.ts). */
  tools?: ToolPolicyConfig;
  subagents?: { maxDepth?: number; maxFanOut?: number; maxConcurrentSubagents?: number };
  loopLimits?: Partial<LoopLimits>;
  /** Agents this one may `delegate` to or `handoff` to (absent: none). */
  allowAgents?: string[];
  /** Longest chain of delegations a `delegate` from this agent may extend (default 3). */
  delegationDepth?: number;
  /** Teams this agent leads (derived from `teams` at start-up): it gets the lead's team tools. */
  leads?: string[];
}

export interface StoredMessage {
  role: 'user' | 'assistant';
  content: string;
  at: number;
  runId?: string;
  /**
   * The idempotency key of the send that brought a user message, kept in the
   * row's meta: a session that comes back (after passivation or its worker's
   * death) knows the sends it already took. Only between the session and the
   * store; never in the history a run or a client sees.
   */
  key?: string;
}

export type SessionRequest =
  | { t: 'ping' }
  | {
    t: 'send'; runId: string; agent: string; message: string; idempotencyKey?: string;
    /** A stateless run: the conversation as the client keeps it, instead of the session's history. */
    conversation?: ChatMessage[];
    /** Tools the client runs itself: calls to them end the run with stop reason `tool_calls`. */
    clientTools?: ToolSpec[];
    /** Events before the terminal one the client wants (absent: all). */
    progress?: RunProgress;
  }
  | { t: 'abort'; runId?: string }
  | { t: 'history'; limit: number }
  | { t: 'run-done'; runId: string; text?: string }
  /** The agent handed the conversation over: later turns for `from` go to `to`. */
  | { t: 'handoff'; from: string; to: string; reason: string }
  /** The tenant's agents, providers or MCP servers changed (admin API): new runs use these; runs in flight finish on the old ones. */
  | { t: 'agents'; agents: AgentConfig[]; providers: TenantProvider[]; mcpServers: TenantMcpServer[] };

/** How a worker gets a tenant provider's key: a named call on the store worker, `{...extra, tenant, id}` → key or null. */
export interface KeySource {
  store: ActorRef<unknown>;
  module: string;
  export: string;
  extra: Record<string, unknown>;
}

/** A tenant's own providers (keys not included) and where their keys are fetched from. */
export interface TenantProviders {
  list: TenantProvider[];
  keys?: KeySource;
}

/** A tenant's own MCP servers (sealed values not included) and where a worker fetches those (`{...extra, tenant, id}` → values or null). */
export interface TenantMcpServers {
  list: TenantMcpServer[];
  secrets?: KeySource;
}

export interface SendReply {
  runId: string;
  /** True when the idempotency key matched an earlier run; no new run was started. */
  duplicate: boolean;
}

/** [runId, event name, payload]: what agents tell the router on the main thread. */
export type RunEvent = [string, ChatEventName, Record<string, unknown>];

export interface SessionArgs {
  tenant: string;
  sessionKey: string;
  router: ActorRef<RunEvent>;
  agents: AgentConfig[];
  /** Passivate (stop, freeing memory) after this long without messages or runs. */
  idleMs: number;
  /** Messages of history kept in memory. */
  historyLimit: number;
  /** Where history is persisted and reloaded from; absent: memory only. */
  persistence?: ActorRef<PersistRequest>;
  /** The agent recorded for a new stored session. */
  defaultAgent: string;
  /** The backend's session directory (for the sessions_list tool). */
  directory?: ActorRef<DirectoryRequest>;
  /** The team coordinator (team tools, delegate); absent: no teams. */
  team?: ActorRef<TeamRequest>;
  /** The tenant's own providers (admin API), which agents' chains may name; absent: none. */
  providers?: TenantProviders;
  /** The tenant's own MCP servers (admin API), whose tools its agents are offered; absent: none. */
  mcpServers?: TenantMcpServers;
}

/** Asks the backend's directory for a tenant's live sessions. */
export interface DirectoryRequest {
  t: 'list';
  tenant: string;
}
