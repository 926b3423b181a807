/**
 * The contract between the front door and whatever answers it (the actor layer
 * in production, a fake in tests). The front door only validates, authenticates,
 * limits and frames; every decision about sessions, agents and runs is the
 * backend's. Kept deliberately small: one method per wire method.
 *
 * Errors: reject with an object carrying a catalogue `code` (see errors.ts),
 * e.g. `{ code: 'NOT_FOUND', message: 'no such agent' }`; anything else is
 * reported to clients as INTERNAL.
 */
import type { Principal } from '../security/types.js';

export interface ChatUsage {
  inputTokens: number;
  outputTokens: number;
}

/** Payloads of the events a chat run emits, by event name. */
export interface ChatEventMap {
  /** A piece of assistant text, in order. */
  'chat.delta': { runId: string; delta: string };
  /**
   * A tool call started (with its `arguments`, JSON text) or finished (with `ok`
   * and its `result` text) inside the run; both texts are clamped to 2,000
   * characters with a note. Informational.
   */
  'chat.tool': {
    runId: string; name: string; phase: 'start' | 'end'; callId?: string; ok?: boolean; arguments?: string; result?: string;
  };
  /**
   * The run ended normally. `text` is the whole answer. With stop reason
   * `tool_calls`, the model called tools the client declared (`tools`): the
   * client runs them and sends their results in its next request.
   */
  'chat.final': { runId: string; text: string; usage?: ChatUsage; stopReason?: string; toolCalls?: ClientToolCall[] };
  /** The run failed; `error.code` is from the catalogue. (An aborted run ends in `chat.final`.) */
  'chat.error': { runId: string; error: { code: string; message: string; retryable?: boolean } };
}

export type ChatEventName = keyof ChatEventMap;

export type RunProgress = 'all' | 'text' | 'none';

/** A tool the client declared and runs itself (OpenAI `tools`). */
export interface ClientToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
}

/** A call of a client tool, returned to the client to run. */
export interface ClientToolCall {
  id: string;
  name: string;
  /** The arguments as JSON text, exactly as the model produced them. */
  arguments: string;
}

/** One message of a conversation the client keeps itself (stateless requests). */
export type ConversationMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ClientToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

/**
 * Where a run's events go. The transport assigns `seq` and handles slow
 * clients; a sink never throws and never blocks, and becomes a no-op once the
 * client is gone. Exactly one `chat.final` or `chat.error` ends a run.
 */
export type EventSink = <E extends ChatEventName>(event: E, payload: ChatEventMap[E]) => void;

export interface ChatSendParams {
  /** Continue this session; absent: the backend picks (e.g. the user's main session). */
  sessionKey?: string;
  /** Which agent answers; absent: the backend's default agent. */
  agent?: string;
  message: string;
  /** Same key within a session ⇒ the same run, not a second one. */
  idempotencyKey?: string;
  /**
   * A one-off request with no session (the OpenAI API without a session
   * header): the run sees only this message and nothing is kept afterwards.
   */
  stateless?: boolean;
  /** The client's address (set by the front door, for audit). */
  sourceIp?: string;
  /**
   * Which events before the terminal one the client wants: `all` (default),
   * `text` (chat.delta only) or `none`. Unwanted events are never produced,
   * so they cost no thread hop.
   */
  progress?: RunProgress;
  /**
   * Stateless only: the whole conversation as the client keeps it (ending
   * with `message` or with tool results); replaces the session's history.
   */
  conversation?: ConversationMessage[];
  /** Stateless only: tools the client runs itself; calls to them end the run (stop reason `tool_calls`). */
  tools?: ClientToolSpec[];
}

export interface AgentInfo {
  id: string;
  description?: string;
}

export interface GatewayBackend {
  /** Round trip through the session actor (proves the session is alive). */
  ping(p: Principal, sessionKey?: string): Promise<{ pong: true; at: number }>;
  /** Starts a run; resolves as soon as it is accepted, then streams events into `sink`. */
  chatSend(p: Principal, params: ChatSendParams, sink: EventSink): Promise<{ runId: string; sessionKey: string }>;
  chatAbort(p: Principal, params: { runId?: string; sessionKey?: string }): Promise<{ aborted: boolean }>;
  chatHistory(p: Principal, params: { sessionKey: string; limit?: number }): Promise<{ messages: unknown[] }>;
  sessionsList(p: Principal): Promise<{ sessions: unknown[] }>;
  agentsList(p: Principal): Promise<{ agents: AgentInfo[] }>;
  /** Free-form details for /health and the `health` method. */
  health(): Promise<Record<string, unknown>>;
  /** False while starting or degraded: /ready answers 503. */
  ready(): boolean;
  /**
   * Test-only fault injection (`admin.fault`). Absent, or rejecting with
   * FORBIDDEN, unless the operator enabled faults explicitly.
   */
  injectFault?(p: Principal, params: { kind: string; worker?: number }): Promise<Record<string, unknown>>;
}
