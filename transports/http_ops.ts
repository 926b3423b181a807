/**
 * Operational endpoints: /health (always 200 while the process answers, with
 * details), /ready (503 while the backend is not ready or we are draining, so
 * load balancers stop sending traffic), /metrics (Prometheus text), and a JSON
 * 404 for everything else. /health and /ready need no credentials (probes);
 * /metrics needs `Authorization: Bearer <metricsToken>`, or a credential with
 * the `metrics` scope, when a metricsToken is configured (transports/access.ts).
 */
import type { Registry } from 'prom-client';
import type { FrontDoorContext } from './context.js';
import { TroupeError } from './errors.js';
import type { HttpEdge } from './http_edge.js';

export function registerOpsRoutes(
  edge: HttpEdge,
  ctx: FrontDoorContext,
  registry: Registry,
  connectionCount: () => number,
  channelHealth?: () => Record<string, unknown>,
): void {
  edge.route('GET', '/health', ({ ex }) => {
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

  edge.route('GET', '/ready', ({ ex }) => {
    let ready = false;
    try {
      ready = !ctx.shuttingDown && ctx.backend.ready();
    } catch (err) {
      ctx.logger.warn('backend ready() threw', { error: String(err) });
    }
    if (ready) ex.json(200, { ready: true });
    else ex.json(503, { ready: false, reason: ctx.shuttingDown ? 'shutting_down' : 'backend_not_ready' });
  });

  // The edge lets through: anyone while no metricsToken is configured, the metricsToken, or a credential with the metrics scope.
  edge.route('GET', '/metrics', async ({ ex }) => {
    ex.end(200, { 'content-type': registry.contentType }, await registry.metrics());
  });
}

/** The JSON 404 for every path no route claimed; registered last. */
export function registerNotFound(edge: HttpEdge): void {
  edge.route('ANY', '/*', () => {
    throw new TroupeError('NOT_FOUND', 'No such endpoint', { reason: 'no_route' });
  });
}
