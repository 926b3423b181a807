/**
 * The /ws route: upgrade (origin, capacity, rate limit, optional token,
 * subprotocol), then per-frame dispatch to METHODS. Everything a client sends
 * ends in a `res` frame or a close with a documented code; nothing it sends can
 * throw out of a handler.
 */
import uws, { type HttpRequest, type HttpResponse, type us_socket_context_t, type WebSocketBehavior } from 'uWebSockets.js';
import { decodePayload, FrameError, negotiateSubprotocol, toRequestFrame, type RequestFrame } from './codec.js';
import { authorize } from './access.js';
import { authenticate, bearerToken, takeOrThrow, type FrontDoorContext } from './context.js';
import { TroupeError } from './errors.js';
import { HttpExchange } from './http_exchange.js';
import { CloseCode, WsConnection, type ConnectionUserData } from './ws_connection.js';
import { METHODS, validateParams } from './ws_methods.js';

/** uWS hard-closes (1006) frames above its own limit; we set it above ours so we can answer first. */
const UWS_PAYLOAD_HEADROOM = 2;

/**
 * Browsers always send Origin on WebSocket upgrades; non-browser clients usually do not.
 * A page the gateway served itself (the console at /console) is same-origin: its
 * Origin names the host the upgrade was sent to.
 */
export function originAllowed(origin: string, allowed: readonly string[], host = ''): boolean {
  if (origin === '') return true;
  if (host !== '' && (origin === `http://${host}` || origin === `https://${host}`)) return true;
  return allowed.includes('*') || allowed.includes(origin);
}

/** Each method's key in the access table (`WS chat.send`), built once rather than per frame. */
const ACCESS_KEYS: Readonly<Record<string, string>> = Object.fromEntries(Object.keys(METHODS).map((m) => [m, `WS ${m}`]));

function rejectUpgrade(res: HttpResponse, ctx: FrontDoorContext, err: unknown): void {
  new HttpExchange(res, ctx.metrics).fail(err);
}

async function dispatch(ctx: FrontDoorContext, conn: WsConnection, frame: RequestFrame): Promise<void> {
  const started = performance.now();
  const spec = Object.hasOwn(METHODS, frame.method) ? METHODS[frame.method] : undefined;
  if (spec === undefined) {
    conn.replyError(frame.id, new TroupeError('INVALID_REQUEST', `Unknown method "${frame.method}"`, { reason: 'unknown_method', field: 'method' }));
    return;
  }
  conn.inflight++;
  try {
    if (spec.needsAuth) {
      const p = conn.principal;
      if (p === undefined) throw new TroupeError('UNAUTHORIZED', 'Send connect first', { reason: 'not_connected' });
      if (p.expiresAt !== undefined && p.expiresAt <= Date.now()) {
        throw new TroupeError('UNAUTHORIZED', 'Credentials have expired; reconnect', { reason: 'token_expired' });
      }
      if (p.keyId !== undefined) await conn.keyCheck();
      authorize(ctx, p, ACCESS_KEYS[frame.method], conn.ip);
    }
    const result = await spec.run(ctx, conn, validateParams(spec, frame.params));
    conn.reply(frame.id, result.payload);
    result.afterReply?.();
  } catch (err) {
    const code = conn.replyError(frame.id, err);
    if (code === 'INTERNAL') ctx.logger.error('ws method failed', { method: frame.method, requestId: frame.id, tenant: conn.principal?.tenant, error: String(err) });
  } finally {
    conn.inflight--;
    ctx.metrics.requestDuration.observe({ transport: 'ws', method: frame.method }, (performance.now() - started) / 1000);
  }
}

/** Synchronous part: the ArrayBuffer is only valid until the first await. */
function onMessage(ctx: FrontDoorContext, conn: WsConnection, message: ArrayBuffer, isBinary: boolean): void {
  const { metrics, config } = ctx;
  metrics.framesIn[conn.protocol]++;
  metrics.bytesIn[conn.protocol] += message.byteLength;
  if (message.byteLength > config.maxPayloadBytes) {
    conn.replyError(null, new TroupeError('PAYLOAD_TOO_LARGE', `Frame exceeds ${config.maxPayloadBytes} bytes`, { reason: 'frame_too_large' }));
    conn.end(CloseCode.MESSAGE_TOO_BIG, 'payload too large');
    return;
  }
  let frame: RequestFrame;
  try {
    frame = toRequestFrame(decodePayload(message, isBinary, conn.protocol, config.maxJsonDepth));
  } catch (err) {
    conn.replyError(err instanceof FrameError ? err.requestId : null, err);
    return;
  }
  if (conn.inflight >= config.maxInflightPerConnection) {
    conn.replyError(frame.id, new TroupeError('OVERLOADED', 'Too many requests in flight on this connection', { reason: 'too_many_inflight' }));
    return;
  }
  void dispatch(ctx, conn, frame);
}

function onUpgrade(
  ctx: FrontDoorContext,
  connections: ReadonlySet<WsConnection>,
  res: HttpResponse,
  req: HttpRequest,
  context: us_socket_context_t,
): void {
  // Copy everything now: req is stack-allocated and dies when we return.
  const key = req.getHeader('sec-websocket-key');
  const offer = req.getHeader('sec-websocket-protocol');
  const extensions = req.getHeader('sec-websocket-extensions');
  const origin = req.getHeader('origin');
  const host = req.getHeader('host');
  const token = bearerToken(req.getHeader('authorization')) ?? (req.getQuery('token') || undefined);
  const ip = Buffer.from(res.getRemoteAddressAsText()).toString();

  const { config } = ctx;
  if (ctx.shuttingDown) return rejectUpgrade(res, ctx, new TroupeError('UNAVAILABLE', 'The server is shutting down', { reason: 'shutting_down' }));
  if (!originAllowed(origin, config.allowedOrigins, host)) {
    return rejectUpgrade(res, ctx, new TroupeError('FORBIDDEN', 'Origin not allowed', { reason: 'origin_not_allowed' }));
  }
  if (connections.size >= config.maxConnections) {
    return rejectUpgrade(res, ctx, new TroupeError('OVERLOADED', 'Too many connections', { reason: 'too_many_connections', retryAfterMs: 1000 }));
  }
  const { protocol, header } = negotiateSubprotocol(offer);
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  void (async () => {
    try {
      await takeOrThrow(ctx, 'connect', { ip });
      const principal = token === undefined ? undefined : await authenticate(ctx, token, ip);
      if (aborted) return;
      const userData: ConnectionUserData = { conn: new WsConnection(protocol, ip, principal, ctx) };
      res.cork(() => res.upgrade(userData, key, header, extensions, context));
    } catch (err) {
      if (!aborted) rejectUpgrade(res, ctx, err);
    }
  })();
}

export function wsBehavior(ctx: FrontDoorContext, connections: Set<WsConnection>): WebSocketBehavior<ConnectionUserData> {
  const { config, metrics } = ctx;
  return {
    maxPayloadLength: config.maxPayloadBytes * UWS_PAYLOAD_HEADROOM,
    idleTimeout: config.idleTimeoutSec,
    sendPingsAutomatically: true,
    // We stop sending at maxBufferedBytes ourselves; uWS's own limit only catches bugs.
    maxBackpressure: config.maxBufferedBytes * 2 + config.maxPayloadBytes,
    compression: uws.DISABLED,
    upgrade: (res, req, context) => onUpgrade(ctx, connections, res, req, context),
    open: (ws) => {
      const { conn } = ws.getUserData();
      conn.attach(ws);
      connections.add(conn);
      metrics.connections.inc();
      if (ctx.shuttingDown) conn.event('shutdown', { reason: 'server shutting down' });
    },
    message: (ws, message, isBinary) => onMessage(ctx, ws.getUserData().conn, message, isBinary),
    drain: (ws) => ws.getUserData().conn.drain(),
    close: (ws, code, message) => {
      const { conn } = ws.getUserData();
      conn.detach();
      if (connections.delete(conn)) metrics.connections.dec();
      // uWS drops (1006) text frames with bad UTF-8 and frames above its own limit before we see them.
      if (code === 1006) {
        const why = Buffer.from(message).toString();
        if (why.includes('UTF-8')) metrics.errors.inc({ transport: 'ws', code: 'INVALID_REQUEST' });
        else if (why.includes('too big')) metrics.errors.inc({ transport: 'ws', code: 'PAYLOAD_TOO_LARGE' });
      }
    },
  };
}
