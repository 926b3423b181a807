/**
 * OpenAI-compatible HTTP API: POST /v1/chat/completions (JSON or SSE) and
 * GET /v1/models, so the official SDKs work against Troupe agents (model =
 * agent id). A client that disconnects mid-run aborts its run.
 */
import type { Principal } from '../security/types.js';
import type { ChatEventMap, ChatEventName, EventSink, StartedRun } from '../actors/chat_contract.js';
import { startRun } from './chat_run.js';
import { assertAccepting, type FrontDoorContext } from './context.js';
import { TroupeError } from './errors.js';
import type { HttpEdge } from './http_edge.js';
import type { HttpExchange } from './http_exchange.js';
import {
  chunkEvent, completionObject, finishReason, openaiToolCalls, openaiUsage, parseCompletionRequest, type CompletionRequest,
} from './openai_request.js';

/** The request headers a completion reads ('' when absent): the session key, and the client's W3C traceparent. */
type RouteHeaders = Readonly<Record<string, string>>;

/** Starts a run whose events go to `onEvent`; aborts it if the client leaves. */
async function startCompletion(
  ctx: FrontDoorContext,
  ex: HttpExchange,
  p: Principal,
  req: CompletionRequest,
  headers: RouteHeaders,
  onEvent: EventSink,
): Promise<StartedRun> {
  const sessionKey = headers['x-troupe-session-key'];
  const traceparent = headers.traceparent;
  const started: { run?: StartedRun } = {};
  ex.onAbort(() => started.run?.abort());
  const run = await startRun(ctx, 'http', { ...p, sourceIp: ex.ip }, {
    // JSON answers need only the final event; streams need the text but not chat.tool.
    agent: req.model, message: req.message, progress: req.stream ? 'text' : 'none', ...(traceparent === '' ? {} : { traceparent }),
    ...(sessionKey !== '' ? { sessionKey, ...(req.tools === undefined ? {} : { tools: req.tools }) }
      : { stateless: true, conversation: req.conversation, ...(req.tools === undefined ? {} : { tools: req.tools }) }),
  }, onEvent);
  started.run = run;
  if (!ex.open) run.abort();
  return run;
}

function completeOnce(ctx: FrontDoorContext, ex: HttpExchange, p: Principal, req: CompletionRequest, headers: RouteHeaders): Promise<void> {
  return new Promise((resolve, reject) => {
    let run: StartedRun | undefined;
    const timer = setTimeout(() => {
      reject(new TroupeError('TIMEOUT', 'The run did not finish in time', { reason: 'run_timeout' }));
      run?.abort();
    }, ctx.config.httpRequestTimeoutMs);
    const settle = (fn: () => void): void => {
      clearTimeout(timer);
      fn();
    };
    const onEvent: EventSink = <E extends ChatEventName>(event: E, payload: ChatEventMap[E]): void => {
      if (event === 'chat.final') {
        const final = payload as ChatEventMap['chat.final'];
        settle(() => {
          ex.json(200, completionObject({ id: `chatcmpl-${final.runId}`, created: nowSeconds(), model: req.model }, final));
          resolve();
        });
      } else if (event === 'chat.error') {
        settle(() => reject((payload as ChatEventMap['chat.error']).error));
      }
    };
    startCompletion(ctx, ex, p, req, headers, onEvent).then((r) => {
      run = r;
      r.release();
    }, (err: unknown) => settle(() => reject(err)));
  });
}

async function completeStreaming(ctx: FrontDoorContext, ex: HttpExchange, p: Principal, req: CompletionRequest, headers: RouteHeaders): Promise<void> {
  let ids = { id: 'chatcmpl-pending', created: nowSeconds(), model: req.model };
  let backlog = 0;
  const write = (chunk: string): void => {
    if (!ex.open || ex.write(chunk)) return;
    // uWS buffered it: bound what a non-reading client can pin.
    backlog += chunk.length;
    if (backlog > ctx.config.maxQueuedBytes) {
      ctx.metrics.slowConsumerCloses.inc();
      ex.close();
    }
  };
  const onEvent: EventSink = (event, payload) => {
    if (event === 'chat.delta') {
      const { delta } = payload as ChatEventMap['chat.delta'];
      write(chunkEvent(ids, [{ index: 0, delta: { content: delta }, finish_reason: null }]));
    } else if (event === 'chat.final') {
      const final = payload as ChatEventMap['chat.final'];
      if (final.toolCalls !== undefined && final.toolCalls.length > 0) {
        write(chunkEvent(ids, [{ index: 0, delta: { tool_calls: openaiToolCalls(final.toolCalls, true) }, finish_reason: null }]));
      }
      write(chunkEvent(ids, [{ index: 0, delta: {}, finish_reason: finishReason(final.stopReason) }]));
      if (req.includeUsage) write(chunkEvent(ids, [], openaiUsage(final.usage)));
      ex.end(200, {}, 'data: [DONE]\n\n');
    } else if (event === 'chat.error') {
      ex.fail((payload as ChatEventMap['chat.error']).error);
    }
  };
  const run = await startCompletion(ctx, ex, p, req, headers, onEvent);
  ids = { ...ids, id: `chatcmpl-${run.runId}` };
  ex.startStream(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  ex.onWritable(() => {
    backlog = 0;
  });
  write(chunkEvent(ids, [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]));
  run.release();
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export function registerOpenAiRoutes(edge: HttpEdge, ctx: FrontDoorContext): void {
  const { config } = ctx;
  edge.route('POST', '/v1/chat/completions', async ({ ex, principal, headers, body }) => {
    assertAccepting(ctx);
    const req = parseCompletionRequest(await (body as Promise<Buffer>), config.maxJsonDepth, config.maxPayloadBytes);
    await (req.stream ? completeStreaming : completeOnce)(ctx, ex, principal as Principal, req, headers);
  }, { name: 'chat.completions', headers: ['x-troupe-session-key', 'traceparent'] });

  edge.route('GET', '/v1/teams/:team/board', async ({ ex, principal, params }) => {
    if (ctx.backend.teamBoard === undefined) throw new TroupeError('NOT_FOUND', 'This server runs no teams', { reason: 'no_teams' });
    ex.json(200, await ctx.backend.teamBoard(principal as Principal, { team: params[0] ?? '' }));
  });

  edge.route('GET', '/v1/models', async ({ ex, principal }) => {
    const { agents } = await ctx.backend.agentsList(principal as Principal);
    const created = Math.floor(ctx.startedAt / 1000);
    ex.json(200, {
      object: 'list',
      data: agents.map((a) => ({ id: a.id, object: 'model', created, owned_by: 'troupe', ...(a.description === undefined ? {} : { description: a.description }) })),
    });
  }, { name: 'models.list' });
}
