/**
 * Operational endpoints: /health (always 200 while the process answers, with
 * details), /ready (503 while the backend is not ready or we are draining, so
 * load balancers stop sending traffic), /metrics (Prometheus text), and a JSON
 * 404 for everything else. /health and /ready need no credentials (probes);
 * /metrics needs `Authorization: Bearer <metricsToken>` when one is configured.
 */
import { timingSafeEqual } from 'node:crypto';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { Registry } from 'prom-client';
import type { FrontDoorContext } from './context.js';
import { TroupeError } from './errors.js';
import { HttpExchange } from './http_exchange.js';

type Route = (res: HttpResponse, req: HttpRequest) => void;
interface RouteTarget {
  get(pattern: string, handler: Route): unknown;
  any(pattern: string, handler: Route): unknown;
}

export function registerOpsRoutes(
  app: RouteTarget,
  ctx: FrontDoorContext,
  registry: Registry,
  live: Set<HttpExchange>,
  connectionCount: () => number,
  channelHealth?: () => Record<string, unknown>,
): void {
  const exchange = (res: HttpResponse): HttpExchange => new HttpExchange(res, ctx.metrics, live);

  app.get('/health', (res) => {
    const ex = exchange(res);
    const base = {
      status: ctx.shuttingDown ? 'shutting_down' : 'ok',
      engine: ctx.engine,
      version: ctx.config.serverVersion,
      uptimeMs: Date.now() - ctx.startedAt,
      connections: connectionCount(),
      runsInFlight: ctx.runs.size,
      ...(channelHealth === undefined ? {} : { channels: channelHealth() }),
    };
    ctx.backend.health().then(
      (backend) => ex.json(200, { ...base, backend }),
      (err: unknown) => {
        ctx.logger.warn('backend health check failed', { error: String(err) });
        ex.json(503, { ...base, status: 'degraded', backend: { error: 'health check failed' } });
      },
    );
  });

  app.get('/ready', (res) => {
    const ex = exchange(res);
    let ready = false;
    try {
      ready = !ctx.shuttingDown && ctx.backend.ready();
    } catch (err) {
      ctx.logger.warn('backend ready() threw', { error: String(err) });
    }
    if (ready) ex.json(200, { ready: true });
    else ex.json(503, { ready: false, reason: ctx.shuttingDown ? 'shutting_down' : 'backend_not_ready' });
  });

  const metricsAuth = ctx.config.metricsToken === undefined ? undefined : Buffer.from(`Bearer ${ctx.config.metricsToken}`);
  app.get('/metrics', (res, req) => {
    const ex = exchange(res);
    if (metricsAuth !== undefined) {
      const given = Buffer.from(req.getHeader('authorization'));
      if (given.length !== metricsAuth.length || !timingSafeEqual(given, metricsAuth)) {
        ex.fail(new TroupeError('UNAUTHORIZED', 'Send Authorization: Bearer <metrics token>', { reason: given.length === 0 ? 'missing_token' : 'bad_token' }));
        return;
      }
    }
    registry.metrics().then(
      (text) => ex.end(200, { 'content-type': registry.contentType }, text),
      (err: unknown) => ex.fail(err),
    );
  });

  app.any('/*', (res) => {
    exchange(res).fail(new TroupeError('NOT_FOUND', 'No such endpoint', { reason: 'no_route' }));
  });
}
