/**
 * The HTTP edge: every route is registered through it, and each request goes
 * through the same named steps before its handler runs:
 *
 *   copy headers ─► start reading the body (POST/PUT/PATCH) ─► [limit by IP]
 *   ─► authenticate (unless the route is public) ─► [limit by tenant and user]
 *   ─► authorize against the access table ─► handler
 *
 * A handler always answers: a throw becomes the catalogue's status and body.
 * Registering a route the access table does not list throws at start-up.
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { Principal } from '../security/types.js';
import { authorize, isStaticMetricsToken, ruleOf, type AccessContext } from './access.js';
import { authenticate, bearerToken, limitKeys, takeOrThrow, type FrontDoorContext, type Limiters } from './context.js';
import { TroupeError } from './errors.js';
import { HttpExchange } from './http_exchange.js';

export type Verb = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'ANY';

export interface EdgeRequest {
  ex: HttpExchange;
  ip: string;
  /** The caller; undefined only on public routes. */
  principal: Principal | undefined;
  /** Lower-case header names the route asked for, '' when absent. */
  headers: Readonly<Record<string, string>>;
  /** Route parameters in pattern order (`/agents/:id` → [id]). */
  params: string[];
  /** The raw query string, without '?' ('' unless the route asked for it). */
  query: string;
  /** The body, for POST/PUT/PATCH (already limited to maxPayloadBytes). */
  body: Promise<Buffer> | undefined;
}

export interface RouteOptions {
  /** Headers the handler reads besides `authorization` and `content-length`. */
  headers?: readonly string[];
  /** The name metrics use; default the pattern. */
  name?: string;
  /** The handler reads the query string (uWS's JavaScript fallback cannot parse it on every path, so it is opt-in). */
  query?: boolean;
  /**
   * A sign-in route: taken from this limiter by IP before the credential is
   * checked, then by tenant and user, as the WebSocket upgrade and `connect` are.
   */
  limit?: keyof Limiters;
}

export type EdgeHandler = (req: EdgeRequest) => Promise<void> | void;

type UwsRoute = (res: HttpResponse, req: HttpRequest) => void;
export type UwsRoutes = Record<'get' | 'post' | 'put' | 'patch' | 'del' | 'any', (pattern: string, handler: UwsRoute) => unknown>;

const METHOD_OF: Record<Verb, keyof UwsRoutes> = { GET: 'get', POST: 'post', PUT: 'put', PATCH: 'patch', DELETE: 'del', ANY: 'any' };
const WITH_BODY = new Set<Verb>(['POST', 'PUT', 'PATCH']);

export class HttpEdge {
  /** Table keys of the routes registered so far, in order. */
  readonly routes: string[] = [];

  constructor(
    private readonly app: UwsRoutes,
    private readonly ctx: FrontDoorContext & AccessContext,
    private readonly live: Set<HttpExchange>,
  ) {}

  route(verb: Verb, pattern: string, handler: EdgeHandler, opts: RouteOptions = {}): void {
    const key = `${verb} ${pattern}`;
    const rule = ruleOf(key);
    if (rule === undefined) throw new TroupeError('INTERNAL', `route ${key} has no entry in the access table (transports/access.ts)`, { reason: 'no_access_rule' });
    this.routes.push(key);
    const ctx = this.ctx;
    const extra = opts.headers ?? [];
    const paramCount = (pattern.match(/\/:/g) ?? []).length;
    const name = opts.name ?? pattern;
    this.app[METHOD_OF[verb]](pattern, (res, req) => {
      // Copy everything now: req is stack-allocated and dies when we return.
      const authorization = req.getHeader('authorization');
      const contentLength = req.getHeader('content-length');
      const headers: Record<string, string> = {};
      for (const h of extra) headers[h] = req.getHeader(h);
      const params: string[] = [];
      for (let i = 0; i < paramCount; i++) params.push(decodeURIComponent(req.getParameter(i) ?? ''));
      const query = opts.query === true ? req.getQuery() ?? '' : '';
      const ex = new HttpExchange(res, ctx.metrics, this.live);
      // Public routes (probes) skip it: uWS's JavaScript fallback cannot always tell.
      if (rule !== 'public') ex.ip = Buffer.from(res.getRemoteAddressAsText()).toString();
      const started = performance.now();
      let body: Promise<Buffer> | undefined;
      if (WITH_BODY.has(verb)) {
        // Start reading at once: uWS delivers body chunks only to a registered onData.
        body = ex.readBody(ctx.config.maxPayloadBytes);
        body.catch(() => {});
      }
      void (async () => {
        if (Number(contentLength) > ctx.config.maxPayloadBytes) {
          throw new TroupeError('PAYLOAD_TOO_LARGE', `Body exceeds ${ctx.config.maxPayloadBytes} bytes`, { reason: 'body_too_large' });
        }
        const principal = rule === 'public' ? undefined : await this.caller(key, authorization, ex.ip, opts.limit);
        await handler({ ex, ip: ex.ip, principal, headers, params, query, body });
      })()
        .catch((err: unknown) => {
          if (ex.fail(err).code === 'INTERNAL') ctx.logger.error('http route failed', { route: name, error: String(err) });
        })
        .finally(() => ctx.metrics.requestDuration.observe({ transport: 'http', method: name }, (performance.now() - started) / 1000));
    });
  }

  /**
   * A public route whose handler needs the raw uWS request (all headers, the
   * query): chat-platform webhooks, which the channel adapter verifies by the
   * platform's own signature. Only public entries of the table may be raw.
   */
  raw(verb: Verb, pattern: string, handler: UwsRoute): void {
    const key = `${verb} ${pattern}`;
    if (ruleOf(key) !== 'public') throw new TroupeError('INTERNAL', `raw route ${key} must be public in the access table`, { reason: 'no_access_rule' });
    this.routes.push(key);
    this.app[METHOD_OF[verb]](pattern, handler);
  }

  /** Authenticates and authorizes; undefined for /metrics opened by configuration or by its static token. */
  private async caller(key: string, authorization: string, ip: string, limit: keyof Limiters | undefined): Promise<Principal | undefined> {
    if (ruleOf(key) === 'metrics') {
      // No metricsToken configured: /metrics is open, as it always was. With one, it is a static credential for this route only.
      if (this.ctx.config.metricsToken === undefined || isStaticMetricsToken(authorization, this.ctx.config.metricsToken)) return undefined;
    }
    if (limit !== undefined) await takeOrThrow(this.ctx, limit, { ip });
    const token = bearerToken(authorization);
    if (token === undefined) {
      throw new TroupeError('UNAUTHORIZED', 'Send Authorization: Bearer <token>', { reason: authorization === '' ? 'missing_token' : 'bad_token' });
    }
    const principal = await authenticate(this.ctx, token, ip);
    if (limit !== undefined) await takeOrThrow(this.ctx, limit, limitKeys(principal));
    authorize(this.ctx, principal, key, ip);
    return principal;
  }
}
