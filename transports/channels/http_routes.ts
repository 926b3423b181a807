/**
 * Webhooks on the gateway's own port: `POST /channels/<id>` for every
 * platform, `GET /channels/<id>` for verification handshakes (WhatsApp).
 * The raw body is read with a cap (413), the channel's adapter verifies and
 * parses it (401 bad or missing signature or stale timestamp, 400 malformed),
 * the platform gets its answer at once, and the messages are processed after.
 * Unknown ids answer 404. Every refusal is counted in /metrics.
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { GatewayMetrics } from '../metrics.js';
import { HttpExchange } from '../http_exchange.js';
import { WebhookRejected, type WebhookRequest } from './adapter.js';
import type { ChannelHub } from './hub.js';
import { UNKNOWN_CHANNEL } from './metrics.js';

type Route = (res: HttpResponse, req: HttpRequest) => void;
interface RouteTarget {
  get(pattern: string, handler: Route): unknown;
  post(pattern: string, handler: Route): unknown;
}


export function registerChannelRoutes(app: RouteTarget, hub: ChannelHub, metrics: GatewayMetrics, live: Set<HttpExchange>): void {
  const handle = (method: 'GET' | 'POST') => (res: HttpResponse, req: HttpRequest): void => {
    const id = req.getParameter(0) ?? '';
    const headers: Record<string, string> = {};
    req.forEach((k, v) => {
      headers[k] = v;
    });
    const query = new URLSearchParams(req.getQuery() ?? '');
    const ex = new HttpExchange(res, metrics, live);
    const channel = hub.get(id);
    const refuse = (status: number, reason: string, channelLabel: string) => {
      hub.metrics.messages.inc({ channel: channelLabel, direction: 'in', outcome: reason });
      ex.json(status, { ok: false, error: reason }, {}, status === 413);
    };
    if (channel === undefined) {
      refuse(404, 'unknown_channel', UNKNOWN_CHANNEL);
      return;
    }
    const body = method === 'POST' ? ex.readBody(hub.maxBodyBytes) : Promise.resolve(Buffer.alloc(0));
    body.then(async (rawBody) => {
      if (channel.status !== 'up') {
        refuse(503, 'unavailable', id);
        return;
      }
      const request: WebhookRequest = { method, headers, query, rawBody, now: Date.now() };
      const result = await channel.webhook(request);
      ex.end(result.status, { 'content-type': result.contentType ?? 'text/plain' }, result.body ?? '');
      if (result.messages.length > 0) channel.deliver(result.messages);
    }).catch((err: unknown) => {
      if (err instanceof WebhookRejected) refuse(err.status, err.reason, id);
      else if ((err as { code?: string }).code === 'PAYLOAD_TOO_LARGE') refuse(413, 'too_large', id);
      else if ((err as { reason?: string }).reason === 'client_aborted') return;
      else refuse(500, 'failed', id);
    });
  };
  app.post('/channels/:id', handle('POST'));
  app.get('/channels/:id', handle('GET'));
}
