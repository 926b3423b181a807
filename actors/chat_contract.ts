/**
 * The chat-run contract, declared once. WebSocket, HTTP and chat channels are
 * three front doors to one operation: start a run for (tenant, user, session
 * key, agent, message) and receive its events. The front door (transports/)
 * and the actor layer both import this file; it imports nothing, so it sits
 * below both and neither has to know the other.
 *
 *   transport ──startRun(caller, params, sink)──► backend.chatSend ──► session ─► agent
 *        ▲                                                                   │
 *        └──────────── sink(event, payload) ◄──── chat.delta / tool / final ─┘
 *
 * The rules a run's parameters must follow are written here too
 * (`checkRunParams`), so every door refuses the same requests the same way.
 */

/** Who starts a run (security's Principal fits). Channels build one from the platform's user. */
export interface Caller {
  tenant: string;
  user: string;
  scopes?: readonly string[];
  /** Where the request came from (audit and per-IP limits); channels leave it out. */
  sourceIp?: string;
  /** The API key the caller used, if any (usage and budgets are kept per key). */
  keyId?: string;
}

export interface Usage {
  /** The whole prompt, cached parts included. */
  inputTokens: number;
  outputTokens: number;
  /** The part of the input read from a provider's prompt cache, when it reports one. */
  cachedTokens?: number;
}

/** Which provider and model answered a run's last model call (after any failover). */
export interface ServedBy {
  provider?: string;
  model?: string;
}

export type RunOutcome = 'ok' | 'error' | 'aborted';

/**
 * What a finished run used, as usage recording is told of it: whichever door
 * started it (transports' startRun) or a team (the coordinator, its lead turns).
 */
export interface RunEnd {
  runId: string;
  caller: Caller;
  /** The agent asked for; undefined: the backend's default agent. */
  agent: string | undefined;
  outcome: RunOutcome;
  /** Tokens the run used, when the agent reported them. */
  usage: Usage | undefined;
  /** Who answered the run's last model call, when the agent reported it. */
  provider: string | undefined;
  model: string | undefined;
  latencyMs: number;
  /**
   * The run's session key (the backend's, so a default or stateless key too), once
   * the backend has accepted the run. The usage row is the turn's record: it
   * carries this, the caller's address and `endReason` (no audit row repeats them).
   */
  sessionKey?: string;
  /** chat.final's stop reason, or chat.error's code. */
  endReason?: string;
}

/** The RunEnd of a run's terminal event (`startedAt`: performance.now() when it was started). */
export function runEndOf(
  caller: Caller, agent: string | undefined, startedAt: number,
  event: 'chat.final' | 'chat.error', payload: ChatEventMap['chat.final' | 'chat.error'], sessionKey?: string,
): RunEnd {
  const endReason = event === 'chat.error' ? (payload as ChatEventMap['chat.error']).error?.code : (payload as ChatEventMap['chat.final']).stopReason;
  return {
    runId: payload.runId, caller, agent, outcome: event === 'chat.error' ? 'error' : endReason === 'aborted' ? 'aborted' : 'ok',
    usage: payload.usage, provider: payload.provider, model: payload.model, latencyMs: performance.now() - startedAt,
    ...(sessionKey === undefined ? {} : { sessionKey }), ...(typeof endReason === 'string' && endReason.length > 0 ? { endReason } : {}),
  };
}

/** `all`: every event; `text`: chat.delta but no chat.tool; `none`: only chat.final or chat.error. */
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
  'chat.final': { runId: string; text: string; usage?: Usage; stopReason?: string; toolCalls?: ClientToolCall[] } & ServedBy;
  /**
   * The run failed; `error.code` is from the catalogue. (An aborted run ends in
   * `chat.final`.) `usage` is what the run used before it failed, when known;
   * `text` what it had streamed (its deltas, joined), when it had.
   */
  'chat.error': { runId: string; error: { code: string; message: string; retryable?: boolean }; usage?: Usage; text?: string } & ServedBy;
}

export type ChatEventName = keyof ChatEventMap;

/**
 * Where a run's events go. The transport assigns `seq` and handles slow
 * clients; a sink never throws and never blocks, and becomes a no-op once the
 * client is gone. Exactly one `chat.final` or `chat.error` ends a run.
 */
export type EventSink = <E extends ChatEventName>(event: E, payload: ChatEventMap[E]) => void;

/** What a run is started with. */
export interface ChatSendParams {
  /** Continue this session; absent: the backend picks (the user's main session). */
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
  /**
   * The client's W3C trace context (`00-<trace id>-<span id>-<flags>`): the
   * turn's spans join that trace. A malformed value is ignored and the turn
   * starts a new trace.
   */
  traceparent?: string;
}

/** A run was accepted: its id, and the session it runs in. */
export interface RunAccepted {
  runId: string;
  sessionKey: string;
}

/** Which run to abort: by id, or whatever runs in a session. */
export interface RunTarget {
  runId?: string;
  sessionKey?: string;
}

/** A started run, as `startRun` hands it to a transport. */
export interface StartedRun extends RunAccepted {
  /**
   * Delivers the events the run emitted before it was accepted (held so the
   * client learns the runId first); later events go straight to the sink.
   * Call it once, after telling the client the runId.
   */
  release(): void;
  /** Aborts this run (a no-op once it ended): e.g. when the client went away. */
  abort(): void;
}

/**
 * The one way a front door starts and stops runs (transports/chat_run.ts
 * implements it over the backend): rules, shutdown, rate limits, run tracking.
 */
export interface ChatRunner {
  startRun(caller: Caller, params: ChatSendParams, sink: EventSink): Promise<StartedRun>;
  abortRun(caller: Caller, target: RunTarget): Promise<{ aborted: boolean }>;
}

/** Longest session key, in characters. */
export const MAX_SESSION_KEY = 256;

/** A request that breaks the contract's rules (code INVALID_REQUEST of the catalogue). */
export class RunParamsError extends Error {
  readonly code = 'INVALID_REQUEST';
  readonly retryable = false;
  constructor(message: string, readonly reason: string, readonly field: string) {
    super(message);
    this.name = 'RunParamsError';
  }
}

/** Throws RunParamsError when a session key is empty or too long. */
export function checkSessionKey(key: string | undefined): void {
  if (key === undefined) return;
  if (key.length === 0) throw new RunParamsError('sessionKey must not be empty', 'field_empty', 'sessionKey');
  if (key.length > MAX_SESSION_KEY) {
    throw new RunParamsError(`sessionKey must be at most ${MAX_SESSION_KEY} characters`, 'field_too_long', 'sessionKey');
  }
}

/** True when the run has no session: the client keeps the conversation. */
export function isStateless(params: Pick<ChatSendParams, 'stateless' | 'sessionKey'>): boolean {
  return params.stateless === true && params.sessionKey === undefined;
}

/** The rules every run's parameters follow, whichever door it came through. */
export function checkRunParams(params: ChatSendParams): void {
  checkSessionKey(params.sessionKey);
  if (!isStateless(params) && (params.conversation !== undefined || params.tools !== undefined)) {
    throw new RunParamsError(
      'Client-side "tools" and a client-kept conversation need a stateless request: the client keeps the conversation, so send no session key',
      'tools_need_stateless',
      params.tools !== undefined ? 'tools' : 'conversation',
    );
  }
}
