/**
 * OpenAI-compatible HTTP API: POST /v1/chat/completions (JSON or SSE) and
 * GET /v1/models, so the official SDKs work against Troupe agents (model =
 * agent id). A client that disconnects mid-run aborts its run.
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { Principal } from '../security/types.js';
import type { ChatEventMap, ChatEventName, EventSink, StartedRun } from '../actors/chat_contract.js';
import { startRun } from './chat_run.js';
import { assertAccepting, authenticate, bearerToken, type FrontDoorContext } from './context.js';
import { TroupeError } from './errors.js';
import { HttpExchange } from './http_exchange.js';
import {
  chunkEvent, completionObject, finishReason, openaiToolCalls, openaiUsage, parseCompletionRequest, type CompletionRequest,
} from './openai_request.js';

interface RequestHeaders {
  ip: string;
  authorization: string;
  contentLength: string;
  sessionKey: string;
}

function copyHeaders(req: HttpRequest): RequestHeaders {
  return {
    ip: '',
    authorization: req.getHeader('authorization'),
    contentLength: req.getHeader('content-length'),
    sessionKey: req.getHeader('x-troupe-session-key'),
  };
}

async function principalFrom(ctx: FrontDoorContext, authorization: string, ip?: string): Promise<Principal> {
  const token = bearerToken(authorization);
  if (token === undefined) throw new TroupeError('UNAUTHORIZED', 'Send Authorization: Bearer <token>', { reason: 'missing_token' });
  return authenticate(ctx, token, ip);
}

/** Wraps an async route so it always answers, observes its duration and never rejects. */
function route(
  ctx: FrontDoorContext,
  live: Set<HttpExchange>,
  name: string,
  handler: (ex: HttpExchange, headers: RequestHeaders) => Promise<void>,
): (res: HttpResponse, req: HttpRequest) => void {
  return (res, req) => {
    const headers = copyHeaders(req);
    headers.ip = Buffer.from(res.getRemoteAddressAsText()).toString();
    const ex = new HttpExchange(res, ctx.metrics, live);
    ex.ip = headers.ip;
    const started = performance.now();
    handler(ex, headers)
      .catch((err: unknown) => {
        if (ex.fail(err).code === 'INTERNAL') ctx.logger.error('http route failed', { route: name, error: String(err) });
      })
      .finally(() => ctx.metrics.requestDuration.observe({ transport: 'http', method: name }, (performance.now() - started) / 1000));
  };
}

/** Starts a run whose events go to `onEvent`; aborts it if the client leaves. */
async function startCompletion(
  ctx: FrontDoorContext,
  ex: HttpExchange,
  p: Principal,
  req: CompletionRequest,
  sessionKey: string,
  onEvent: EventSink,
): Promise<StartedRun> {
  const started: { run?: StartedRun } = {};
  ex.onAbort(() => started.run?.abort());
  const run = await startRun(ctx, 'http', { ...p, sourceIp: ex.ip }, {
    // JSON answers need only the final event; streams need the text but not chat.tool.
    agent: req.model, message: req.message, progress: req.stream ? 'text' : 'none',
    ...(sessionKey !== '' ? { sessionKey, ...(req.tools === undefined ? {} : { tools: req.tools }) }
      : { stateless: true, conversation: req.conversation, ...(req.tools === undefined ? {} : { tools: req.tools }) }),
  }, onEvent);
  started.run = run;
  if (!ex.open) run.abort();
  return run;
}

function completeOnce(ctx: FrontDoorContext, ex: HttpExchange, p: Principal, req: CompletionRequest, sessionKey: string): Promise<void> {
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
    startCompletion(ctx, ex, p, req, sessionKey, onEvent).then((r) => {
      run = r;
      r.release();
    }, (err: unknown) => settle(() => reject(err)));
  });
}

async function completeStreaming(ctx: FrontDoorContext, ex: HttpExchange, p: Principal, req: CompletionRequest, sessionKey: string): Promise<void> {
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
  const run = await startCompletion(ctx, ex, p, req, sessionKey, onEvent);
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

export function registerOpenAiRoutes(
  app: { post: (p: string, h: (res: HttpResponse, req: HttpRequest) => void) => unknown; get: (p: string, h: (res: HttpResponse, req: HttpRequest) => void) => unknown },
  ctx: FrontDoorContext,
  live: Set<HttpExchange>,
): void {
  const { config } = ctx;
  app.post('/v1/chat/completions', route(ctx, live, 'chat.completions', async (ex, headers) => {
    // Start reading at once: uWS delivers body chunks only to a registered onData.
    const body = ex.readBody(config.maxPayloadBytes);
    body.catch(() => {});
    assertAccepting(ctx);
    if (Number(headers.contentLength) > config.maxPayloadBytes) {
      throw new TroupeError('PAYLOAD_TOO_LARGE', `Body exceeds ${config.maxPayloadBytes} bytes`, { reason: 'body_too_large' });
    }
    const p = await principalFrom(ctx, headers.authorization, headers.ip);
    const req = parseCompletionRequest(await body, config.maxJsonDepth, config.maxPayloadBytes);
    await (req.stream ? completeStreaming : completeOnce)(ctx, ex, p, req, headers.sessionKey);
  }));

  app.get('/v1/models', route(ctx, live, 'models.list', async (ex, headers) => {
    const p = await principalFrom(ctx, headers.authorization, headers.ip);
    const { agents } = await ctx.backend.agentsList(p);
    const created = Math.floor(ctx.startedAt / 1000);
    ex.json(200, {
      object: 'list',
      data: agents.map((a) => ({ id: a.id, object: 'model', created, owned_by: 'troupe', ...(a.description === undefined ? {} : { description: a.description }) })),
    });
  }));
}
