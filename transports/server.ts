/**
 * createFrontDoor: one uWebSockets.js app on one port serving /ws (RPC), the
 * OpenAI-compatible /v1 API and /health, /ready, /metrics, in front of an
 * injected GatewayBackend. Lifecycle: create → listen() → shutdown().
 */
import uws, { type us_listen_socket } from 'uWebSockets.js';
import type { Registry } from 'prom-client';
import type { Authenticator } from '../security/types.js';
import type { ChatRunner, GatewayBackend } from './backend.js';
import { registerChannelRoutes } from './channels/http_routes.js';
import type { ChannelHub } from './channels/hub.js';
import { chatRunner } from './chat_run.js';
import { resolveConfig, type FrontDoorConfig } from './config.js';
import { rootLog } from '../observability/log.js';
import { type FrontDoorContext, type FrontDoorLogger, type Limiters } from './context.js';
import { detectEngine, type Engine } from './engine.js';
import { TroupeError } from './errors.js';
import type { AccessContext } from './access.js';
import { HttpEdge, type UwsRoutes } from './http_edge.js';
import type { HttpExchange } from './http_exchange.js';
import { registerOpenAiRoutes } from './http_openai.js';
import { registerConsoleRoutes, type ConsoleAssets } from './http_console.js';
import { registerNotFound, registerOpsRoutes } from './http_ops.js';
import { registerUsageRoute } from './http_usage.js';
import { createGatewayMetrics, type Transport } from './metrics.js';
import { RunTracker } from './run_tracker.js';
import type { BudgetGate, UsageLedger } from './usage.js';
import { CloseCode, type WsConnection } from './ws_connection.js';
import { wsBehavior } from './ws_handler.js';
import { METHODS } from './ws_methods.js';

export interface FrontDoorOptions {
  backend: GatewayBackend;
  authenticator: Authenticator;
  limiters: Limiters;
  /** prom-client registry the gateway exposes; our metrics are added to it and /metrics serves it. */
  metrics: Registry;
  config?: Partial<FrontDoorConfig>;
  logger?: FrontDoorLogger;
  /** Chat channels: webhooks at /channels/<id>, their state in /health. */
  channels?: ChannelHub;
  /** Told of every scope refusal (the gateway audits them). */
  onRefused?: AccessContext['onRefused'];
  /** More routes on the same server (the admin API); each needs an entry in the access table. */
  routes?: (edge: HttpEdge) => void;
  /** The web console's files, served at /console; absent: no console. */
  console?: ConsoleAssets;
  /** Usage budgets checked before each run; absent: none. */
  budgets?: BudgetGate;
  /** Told of every run's end, and serves GET /v1/usage; absent: that route answers NOT_FOUND. */
  usage?: UsageLedger;
}

export interface FrontDoorStats {
  connections: number;
  queuedBytes: number;
  runsInFlight: number;
}

export interface FrontDoor {
  readonly engine: Engine;
  /** Binds host:port; resolves with the real port (useful with port 0). */
  listen(): Promise<{ port: number }>;
  /** Drains and closes; safe to call more than once (same promise). */
  shutdown(): Promise<void>;
  stats(): FrontDoorStats;
  /** startRun/abortRun of this front door, for the chat channels (counted under `transport`). */
  chatRunner(transport: Transport): ChatRunner;
  /** Access-table keys of every HTTP route and WS method served (for the scope test). */
  readonly served: readonly string[];
}

export function createFrontDoor(opts: FrontDoorOptions): FrontDoor {
  const config = resolveConfig(opts.config);
  const engine = detectEngine();
  if (engine === 'fallback' && !config.allowFallback) {
    throw new TroupeError(
      'UNAVAILABLE',
      'uWebSockets.js loaded its slow JavaScript fallback (no native binary for this platform, or UWS_USE_FALLBACK is set); set allowFallback to run anyway',
      { reason: 'engine_fallback', retryable: false },
    );
  }
  const metrics = createGatewayMetrics(opts.metrics);
  const ctx: FrontDoorContext = {
    backend: opts.backend,
    authenticator: opts.authenticator,
    limiters: opts.limiters,
    metrics,
    runs: new RunTracker(metrics),
    ...(opts.budgets === undefined ? {} : { budgets: opts.budgets }),
    ...(opts.usage === undefined ? {} : { usage: opts.usage }),
    config,
    logger: opts.logger ?? rootLog(),
    engine,
    startedAt: Date.now(),
    shuttingDown: false,
    ...(opts.onRefused === undefined ? {} : { onRefused: opts.onRefused }),
  };
  const connections = new Set<WsConnection>();
  const exchanges = new Set<HttpExchange>();

  const app = uws.App();
  app.ws('/ws', wsBehavior(ctx, connections));
  const edge = new HttpEdge(app as unknown as UwsRoutes, ctx, exchanges);
  registerOpenAiRoutes(edge, ctx);
  registerUsageRoute(edge, ctx);
  const channels = opts.channels;
  if (channels !== undefined) {
    registerChannelRoutes({ get: (p, h) => edge.raw('GET', p, h), post: (p, h) => edge.raw('POST', p, h) }, channels, metrics, exchanges);
  }
  registerOpsRoutes(edge, ctx, opts.metrics, () => connections.size, channels === undefined ? undefined : () => channels.health());
  opts.routes?.(edge);
  if (opts.console !== undefined) registerConsoleRoutes(edge, opts.console);
  registerNotFound(edge);

  let listenSocket: us_listen_socket | undefined;
  let shutdownPromise: Promise<void> | undefined;

  async function drainAndClose(): Promise<void> {
    ctx.shuttingDown = true;
    if (listenSocket !== undefined) {
      uws.us_listen_socket_close(listenSocket);
      listenSocket = undefined;
    }
    for (const conn of connections) conn.event('shutdown', { reason: 'server shutting down', deadlineMs: config.shutdownDeadlineMs });
    const drained = await ctx.runs.whenIdle(config.shutdownDeadlineMs);
    if (!drained) {
      const left = ctx.runs.active();
      ctx.logger.warn('shutdown deadline passed; aborting runs still in flight', { runs: left.length });
      for (const run of left) {
        if (run.runId === undefined) continue;
        ctx.backend.chatAbort(run.principal, { runId: run.runId }).catch((err: unknown) => {
          ctx.logger.warn('chatAbort during shutdown failed', { error: String(err) });
        });
      }
    }
    const closing = new TroupeError('UNAVAILABLE', 'The server is shutting down', { reason: 'shutting_down' });
    for (const ex of [...exchanges]) ex.fail(closing);
    for (const conn of [...connections]) conn.end(CloseCode.GOING_AWAY, 'server shutting down');
    // Native uWS can also drop idle keep-alive HTTP sockets, so the process can exit.
    (app as unknown as { close?: () => void }).close?.();
  }

  return {
    engine,
    served: ['GET /ws', ...Object.keys(METHODS).map((m) => `WS ${m}`), ...edge.routes],
    listen() {
      return new Promise((resolve, reject) => {
        if (ctx.shuttingDown) {
          reject(new TroupeError('UNAVAILABLE', 'Already shut down', { reason: 'shutting_down' }));
          return;
        }
        app.listen(config.host, config.port, (socket) => {
          if (socket === false) {
            reject(new TroupeError('UNAVAILABLE', `Cannot listen on ${config.host}:${config.port}`, { reason: 'listen_failed', retryable: false }));
            return;
          }
          listenSocket = socket;
          resolve({ port: uws.us_socket_local_port(socket) });
        });
      });
    },
    shutdown() {
      shutdownPromise ??= drainAndClose();
      return shutdownPromise;
    },
    stats() {
      let queuedBytes = 0;
      for (const conn of connections) queuedBytes += conn.queuedBytes;
      return { connections: connections.size, queuedBytes, runsInFlight: ctx.runs.size };
    },
    chatRunner(transport) {
      return chatRunner(ctx, transport);
    },
  };
}
