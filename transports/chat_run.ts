/**
 * startRun: the one way every front door (WebSocket, HTTP, chat channels)
 * starts a chat run, and abortRun, the one way it stops one. A transport only
 * translates its frames into a Caller and ChatSendParams and the events back;
 * everything between is here, once:
 *
 *   refuse while shutting down → the contract's rules (checkRunParams)
 *     → usage budgets → the `chat` rate limit → track the run (metrics, drain)
 *     → backend.chatSend → hold early events until the transport releases them
 *     → at its terminal event, report the run's end (usage, cost, budgets)
 *
 * With tracing on, the turn is one trace: its root here (the front door's
 * span, under the client's traceparent when it sent a valid one), ended by
 * the run's last event; everything the backend does on any thread hangs
 * under it, carried by the runtime's messages.
 */
import {
  checkRunParams, checkSessionKey, runEndOf, type Caller, type ChatEventMap, type ChatEventName, type ChatRunner, type ChatSendParams,
  type EventSink, type RunEnd, type RunTarget, type StartedRun,
} from '../actors/chat_contract.js';
import { assertAccepting, checkBudget, limitKeys, takeOrThrow, type FrontDoorContext } from './context.js';
import { TroupeError } from './errors.js';
import type { Transport } from './metrics.js';
import {
  SpanKind, contextFromTraceparent, endSpan, inContext, spanContext, startSpan, tracingStarted, type Attributes, type Context, type Span,
} from '../observability/tracing.js';

/** The front door span's name per transport. */
const SPAN_NAME: Record<Transport, string> = { ws: 'chat.send', http: 'POST /v1/chat/completions', channel: 'channel message' };

/** Events a run may emit before it is released; more means a broken backend. */
const MAX_EARLY_EVENTS = 4096;

export async function startRun(
  ctx: FrontDoorContext,
  transport: Transport,
  caller: Caller,
  params: ChatSendParams,
  sink: EventSink,
): Promise<StartedRun> {
  assertAccepting(ctx);
  checkRunParams(params);
  await checkBudget(ctx, caller);
  await takeOrThrow(ctx, 'chat', limitKeys(caller, caller.sourceIp));
  const traced = frontDoorSpan(transport, caller, params);
  const span = traced?.span;
  const turn = traced?.turn;
  // A channel's sink makes platform calls, which belong to the turn's trace. A WebSocket or HTTP sink
  // only writes to its client: entering the turn's context for each of its 16+ events would be work for nothing.
  const emit: EventSink = turn === undefined || transport !== 'channel' ? sink : (event, payload) => inContext(turn, sink, event, payload);
  // Events may race ahead of the acceptance; hold them so the client sees runId first.
  let held: [ChatEventName, unknown][] | undefined = [];
  let dropped = 0;
  let spanNamed = false;
  let endTurn: (() => void) | undefined;
  const started = performance.now();
  // The usage row is the turn's record and names its session, which the backend's acceptance
  // gives: a run that ends before its acceptance is back is reported once the key is known.
  const record: { sessionKey?: string; waiting?: RunEnd } = {};
  const deliver: EventSink = <E extends ChatEventName>(event: E, payload: ChatEventMap[E]): void => {
    // The run tracker passes exactly one terminal event per run.
    if (ctx.usage !== undefined && (event === 'chat.final' || event === 'chat.error')) {
      const end = runEndOf(caller, params.agent, started, event, payload as ChatEventMap['chat.final' | 'chat.error'], record.sessionKey);
      if (record.sessionKey === undefined) record.waiting = end;
      else reportEnd(ctx, end);
    }
    if (span !== undefined && (event === 'chat.final' || event === 'chat.error')) {
      // A fast turn can end before its acceptance is back: the span then ends once it names the run
      // (an attribute set on an ended span is lost, and the SDK builds an Error to say so).
      if (spanNamed) endTurnSpan(span, event, payload);
      else endTurn = () => endTurnSpan(span, event, payload);
    }
    if (held === undefined) emit(event, payload);
    else if (held.length < MAX_EARLY_EVENTS) held.push([event, payload]);
    else if (dropped++ === 0) {
      ctx.logger.warn('backend emitted too many events before the run was released; dropping the rest', { user: caller.user });
    }
  };
  const run = ctx.runs.start(transport, caller, deliver);
  let accepted: { runId: string; sessionKey: string };
  try {
    accepted = await (turn === undefined ? ctx.backend.chatSend(caller, params, run.sink) : inContext(turn, ctx.backend.chatSend.bind(ctx.backend, caller), params, run.sink));
  } catch (err) {
    run.fail();
    if (record.waiting !== undefined) reportEnd(ctx, record.waiting);
    endSpan(span, err);
    throw err;
  }
  const { runId, sessionKey } = accepted;
  record.sessionKey = sessionKey;
  if (record.waiting !== undefined) {
    reportEnd(ctx, { ...record.waiting, sessionKey });
    record.waiting = undefined;
  }
  run.runId = runId;
  span?.setAttributes({ 'troupe.run_id': runId, 'troupe.session_key': sessionKey });
  spanNamed = true;
  endTurn?.();
  return {
    runId,
    sessionKey,
    release(): void {
      const early = held ?? [];
      held = undefined;
      for (const [event, payload] of early) emit(event, payload as never);
    },
    abort(): void {
      if (run.finished) return;
      ctx.backend.chatAbort(caller, { runId }).catch((err: unknown) => {
        ctx.logger.warn('chatAbort failed', { transport, error: String(err) });
      });
    },
  };
}

/**
 * The turn's root span, under the client's traceparent when it sent a valid
 * one, and the context it is current in (made once: every event of the run
 * enters it). Undefined with tracing off.
 */
function frontDoorSpan(transport: Transport, caller: Caller, params: ChatSendParams): { span: Span; turn: Context } | undefined {
  if (!tracingStarted()) return undefined;
  const parent = contextFromTraceparent(params.traceparent);
  const attributes: Attributes = { 'troupe.transport': transport, 'troupe.tenant': caller.tenant };
  if (params.agent !== undefined) attributes['gen_ai.agent.name'] = params.agent;
  const span = startSpan(SPAN_NAME[transport], SpanKind.SERVER, attributes, parent);
  return span === undefined ? undefined : { span, turn: spanContext(span, parent) };
}

/** A sink never throws: neither may the usage hook it calls. */
function reportEnd(ctx: FrontDoorContext, end: RunEnd): void {
  try {
    ctx.usage?.runEnded(end);
  } catch (err) {
    ctx.logger.error('recording the usage of a run failed', { runId: end.runId, error: String(err) });
  }
}

function endTurnSpan(span: Span, event: ChatEventName, payload: unknown): void {
  if (event === 'chat.final') {
    const { stopReason } = payload as ChatEventMap['chat.final'];
    if (stopReason !== undefined) span.setAttribute('troupe.stop_reason', stopReason);
    endSpan(span);
  } else {
    endSpan(span, (payload as ChatEventMap['chat.error']).error);
  }
}

export async function abortRun(ctx: FrontDoorContext, caller: Caller, target: RunTarget): Promise<{ aborted: boolean }> {
  if (target.runId === undefined && target.sessionKey === undefined) {
    throw new TroupeError('INVALID_REQUEST', 'Give runId or sessionKey', { reason: 'field_required', field: 'runId' });
  }
  checkSessionKey(target.sessionKey);
  return ctx.backend.chatAbort(caller, target);
}

/** startRun and abortRun bound to one front door and transport label (what a channel framework is handed). */
export function chatRunner(ctx: FrontDoorContext, transport: Transport): ChatRunner {
  return {
    startRun: (caller, params, sink) => startRun(ctx, transport, caller, params, sink),
    abortRun: (caller, target) => abortRun(ctx, caller, target),
  };
}
