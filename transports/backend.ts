/**
 * The contract between the front door and whatever answers it (the actor layer
 * in production, a fake in tests). The front door only validates, authenticates,
 * limits and frames; every decision about sessions, agents and runs is the
 * backend's. Kept deliberately small: one method per wire method.
 *
 * The chat-run types (params, events, sink) are declared once, in
 * actors/chat_contract.ts, and only re-exported here.
 *
 * Errors: reject with an object carrying a catalogue `code` (see errors.ts),
 * e.g. `{ code: 'NOT_FOUND', message: 'no such agent' }`; anything else is
 * reported to clients as INTERNAL.
 */
import type { Caller, ChatSendParams, EventSink, RunAccepted, RunTarget } from '../actors/chat_contract.js';

export type {
  Caller, ChatEventMap, ChatEventName, ChatRunner, ChatSendParams, ClientToolCall, ClientToolSpec, ConversationMessage, EventSink,
  RunAccepted, RunEnd, RunOutcome, RunProgress, RunTarget, StartedRun, Usage,
} from '../actors/chat_contract.js';

export interface AgentInfo {
  id: string;
  description?: string;
}

export interface GatewayBackend {
  /** Round trip through the session actor (proves the session is alive). */
  ping(p: Caller, sessionKey?: string): Promise<{ pong: true; at: number }>;
  /** Starts a run; resolves as soon as it is accepted, then streams events into `sink`. Transports call it only through startRun. */
  chatSend(p: Caller, params: ChatSendParams, sink: EventSink): Promise<RunAccepted>;
  chatAbort(p: Caller, params: RunTarget): Promise<{ aborted: boolean }>;
  chatHistory(p: Caller, params: { sessionKey: string; limit?: number }): Promise<{ messages: unknown[] }>;
  sessionsList(p: Caller): Promise<{ sessions: unknown[] }>;
  agentsList(p: Caller): Promise<{ agents: AgentInfo[] }>;
  /** Free-form details for /health and the `health` method. */
  health(): Promise<Record<string, unknown>>;
  /** False while starting or degraded: /ready answers 503. */
  ready(): boolean;
  /**
   * Test-only fault injection (`admin.fault`). Absent, or rejecting with
   * FORBIDDEN, unless the operator enabled faults explicitly.
   */
  injectFault?(p: Caller, params: { kind: string; worker?: number }): Promise<Record<string, unknown>>;
  /** One team's task board (`team.board`, GET /v1/teams/:team/board); absent: no teams. */
  teamBoard?(p: Caller, params: { team: string; runId?: string; status?: string }): Promise<Record<string, unknown>>;
  /** Sends the tenant's `team.*` events to `sink` until the returned function is called (`team.watch`). */
  teamWatch?(p: Caller, params: { team?: string; sessionKey?: string }, sink: (event: string, payload: Record<string, unknown>) => void): () => void;
}
