/**
 * Messages between agents' team tools (on workers), the team workers that run
 * one task attempt each (on workers) and the coordinator (main thread). All of
 * it crosses threads: plain data, apart from ActorRefs.
 */
import type { Lease } from '../../store/index.js';
import type { ServedBy, Usage } from '../chat_contract.js';
import type { AgentConfig, TenantMcpServers, TenantProviders } from '../protocol.js';

/**
 * A tenant's agent definitions and own providers, as its chat runs see them:
 * members, reviewers and delegates run on these (in the gateway, the store's,
 * so a change reaches the next attempt).
 */
export interface TenantDefinitions {
  agents: ReadonlyMap<string, AgentConfig>;
  providers?: TenantProviders;
  mcpServers?: TenantMcpServers;
}

/** Limits of one team run (see docs/teams.md). */
export interface TeamLimits {
  /** Tasks a run may create in all. */
  maxTasks: number;
  /** Longest chain of agents work may pass through (lead → member → delegate …). */
  maxDepth: number;
  /** Tokens (input + output) the run's tasks may spend; past it the run fails. */
  tokenBudget: number;
  /** The run fails when it has not ended this long after it started. */
  maxDurationMs: number;
  /** A claim's lease; heartbeats renew it every third of it. */
  leaseMs: number;
  /** Attempts of one task (crashes, expired leases, provider errors) before it fails. */
  maxAttempts: number;
  /** One attempt's wall-clock limit (a hung model does not hold a task forever). */
  attemptTimeoutMs: number;
  /** Tasks one member works on at once. */
  memberConcurrency: number;
  /** How long the lead has to take a delivery turn before it is aborted and the run moves on. */
  leadTurnTimeoutMs: number;
}

export interface TeamConfig {
  id: string;
  lead: string;
  members: string[];
  reviewers?: string[];
  limits?: Partial<TeamLimits>;
}

export const TEAM_DEFAULTS: TeamLimits = {
  maxTasks: 50,
  maxDepth: 3,
  tokenBudget: 2_000_000,
  maxDurationMs: 30 * 60_000,
  leaseMs: 30_000,
  maxAttempts: 5,
  attemptTimeoutMs: 10 * 60_000,
  memberConcurrency: 1,
  leadTurnTimeoutMs: 120_000,
};

/** What a worker-side attempt is: one member doing a task, or one reviewer judging it. */
export interface TeamJob {
  role: 'member' | 'reviewer';
  tenant: string;
  teamId: string;
  runId: string;
  taskId: string;
  lease: Lease;
  /** The agent that does the job. */
  agent: string;
  /** The prompt it starts from. */
  prompt: string;
  /** Agents the work passed through (the lead's chain plus the lead). */
  chain: string[];
  leaseMs: number;
  timeoutMs: number;
}

/** Handed to an agent run that works for a team; its team tools act on this task. */
export interface TeamRunContext {
  role: 'member' | 'reviewer';
  teamId: string;
  taskId: string;
  lease: Lease;
  /** The attempt's token: extra claims made with team_task_claim hang off it. */
  attempt: string;
}

/** Who is calling, as a tool sees it. */
export interface TeamCaller {
  tenant: string;
  sessionKey: string;
  agent: string;
  /** Agents the current work passed through before this one. */
  chain: string[];
}

export type TeamRequest =
  | { t: 'create'; caller: TeamCaller; args: Record<string, unknown> }
  | { t: 'list'; caller: TeamCaller; args: Record<string, unknown> }
  | { t: 'cancel'; caller: TeamCaller; args: Record<string, unknown> }
  | { t: 'claim'; caller: TeamCaller; ctx: TeamRunContext; args: Record<string, unknown> }
  | { t: 'complete'; caller: TeamCaller; ctx: TeamRunContext; args: Record<string, unknown> }
  | { t: 'fail'; caller: TeamCaller; ctx: TeamRunContext; args: Record<string, unknown> }
  | { t: 'review'; caller: TeamCaller; ctx: TeamRunContext; args: Record<string, unknown> }
  | { t: 'delegate'; caller: TeamCaller; args: Record<string, unknown> }
  | { t: 'heartbeat'; tenant: string; attempt: string }
  | { t: 'attempt-done'; job: TeamJob; outcome: AttemptOutcome };

/** How an attempt ended; `usage`, `provider`, `model`: what its run used (usage recording). */
export type AttemptOutcome = (
  | { ok: true; text: string; tokens: number; stopReason: string }
  | { ok: false; error: string; tokens: number }
) & { usage?: Usage } & ServedBy;

/** A tool's answer from the coordinator: text for the model, and whether it is an error. */
export interface TeamReply {
  content: string;
  isError?: boolean;
}
