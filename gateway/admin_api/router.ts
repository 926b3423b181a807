/**
 * The /admin/v1 router. Each route is declared once, as data: its verb and
 * path, its audit action, its zod schemas and its handler. `add` registers it
 * on the front door's HTTP edge (so the access table's scope check runs first)
 * and keeps it for the OpenAPI document. A request then goes through:
 *
 *   edge: authenticate ─► authorize (scope) ─► params ─► query ─► tenant ─► body ─► handler ─► JSON
 *
 * Which tenant: the caller's own, or with `?tenant=` another one, which needs
 * the `platform` scope; anyone else asking for another tenant gets FORBIDDEN
 * before any lookup (audited in its own chain), so nothing about that tenant
 * leaks. Bad input is INVALID_REQUEST naming the field.
 */
import { z } from 'zod';
import { allows } from '../../security/scopes.js';
import type { Principal } from '../../security/types.js';
import { ruleOf } from '../../transports/access.js';
import { invalidField, TroupeError } from '../../transports/errors.js';
import type { EdgeRequest, HttpEdge } from '../../transports/http_edge.js';
import type { AdminActor } from '../admin_support.js';
import type { AdminStore } from './admin_store.js';
import { TenantQuery } from './schemas.js';

const NO_QUERY = z.strictObject({});

export const ADMIN_PREFIX = '/admin/v1';

type Obj = z.ZodObject;

export interface AdminCall<P extends Obj, Q extends Obj, B extends z.ZodType> {
  principal: Principal;
  /** The caller as audit rows name it. */
  who: AdminActor;
  /** The tenant the call acts on (checked against the caller's scopes). */
  tenant: string;
  store: AdminStore;
  params: z.output<P>;
  query: z.output<Q>;
  body: z.output<B>;
}

export interface AdminRoute<P extends Obj = Obj, Q extends Obj = Obj, B extends z.ZodType = z.ZodType> {
  verb: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Under /admin/v1, uWS style (`/api-keys/:id`). */
  path: string;
  /** `admin.<resource>.<verb>`: the audit action of a refusal, and the OpenAPI operationId. */
  action: string;
  summary: string;
  /** Acts on a tenant (the caller's, or `?tenant=` for platform callers). */
  tenanted: boolean;
  params?: P;
  query?: Q;
  body?: B;
  /** A sign-in: rate-limited by IP before the credential is checked, then by tenant and user (the `connect` limiter). */
  signIn?: true;
  /** Success status (default 200) and the answer's schema. */
  status?: number;
  response: z.ZodType;
  handle(call: AdminCall<P, Q, B>): Promise<unknown>;
}

/** A public route's handler: no caller, no tenant, no store (the OpenAPI document). */
export interface PublicRoute {
  path: string;
  action: string;
  summary: string;
  response: z.ZodType;
  handle(): unknown;
}

/** The first issue of a failed parse, as a 400 naming the field (`where` when the whole value is wrong). */
function badInput(where: string, error: z.ZodError): TroupeError {
  const issue = error.issues[0];
  const keys = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys : [];
  const field = keys.length > 0 ? [...issue.path, keys[0]].join('.') : issue.path.length > 0 ? issue.path.join('.') : where;
  const message = keys.length > 0 ? `unknown field "${keys[0]}"` : issue.message;
  return invalidField(field, `${where === 'body' ? '' : `${where} `}${field}: ${message}`, keys.length > 0 ? 'unknown_field' : 'invalid_field');
}

function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw badInput(where, r.error);
  return r.data;
}

function queryObject(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    if (Object.hasOwn(out, k)) throw invalidField(k, `query ${k}: given more than once`, 'invalid_field');
    out[k] = v;
  }
  return out;
}

async function jsonBody(body: Promise<Buffer> | undefined): Promise<unknown> {
  const buf = body === undefined ? Buffer.alloc(0) : await body;
  try {
    return JSON.parse(buf.toString('utf8')) as unknown;
  } catch {
    throw invalidField('body', 'body: a JSON object is required', 'invalid_json');
  }
}

/** The caller as an audit row names it: its user, how it came (and which API key), and its own tenant. */
export function actorOf(p: Principal, ip: string): AdminActor {
  return { actor: p.user, sourceIp: ip, detail: { via: p.via, ...(p.keyId === undefined ? {} : { keyId: p.keyId }), callerTenant: p.tenant } };
}

/** Tenants one `seededOnce` has seeded (or found seeded); forgotten when full, which costs one more call. */
const MAX_SEEDED_MEMO = 100_000;

/**
 * `seed` (giving a tenant the config file's agents or MCP servers, which the
 * store does once ever) called at most once per tenant by this process, before
 * a route reads the tenant's definitions.
 */
export function seededOnce(seed: (store: AdminStore, tenant: string) => Promise<unknown>): (store: AdminStore, tenant: string) => Promise<void> {
  const seeded = new Set<string>();
  return async (store, tenant) => {
    if (seeded.has(tenant)) return;
    await seed(store, tenant);
    if (seeded.size >= MAX_SEEDED_MEMO) seeded.clear();
    seeded.add(tenant);
  };
}

export class AdminRouter {
  /** Every route served, in order (the OpenAPI document is built from these). */
  readonly routes: (AdminRoute | (PublicRoute & { verb: 'GET'; public: true }))[] = [];

  constructor(
    private readonly edge: HttpEdge,
    /** Absent: the gateway runs without a store, and every data route answers NOT_FOUND. */
    private readonly store: AdminStore | undefined,
    private readonly log: (msg: string, err: unknown) => void,
  ) {}

  public(route: PublicRoute): void {
    this.routes.push({ ...route, verb: 'GET', public: true });
    this.edge.route('GET', ADMIN_PREFIX + route.path, ({ ex }) => ex.json(200, route.handle()), { name: route.action });
  }

  add<P extends Obj, Q extends Obj, B extends z.ZodType>(route: AdminRoute<P, Q, B>): void {
    if (ruleOf(`${route.verb} ${ADMIN_PREFIX}${route.path}`) === 'public') throw new Error(`${route.path}: an admin data route cannot be public`);
    this.routes.push(route as unknown as AdminRoute);
    const names = [...route.path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]);
    const query = route.tenanted ? (route.query ?? TenantQuery).extend(TenantQuery.shape) : route.query;
    this.edge.route(route.verb, ADMIN_PREFIX + route.path, async (req: EdgeRequest) => {
      const principal = req.principal as Principal;
      const rawParams = Object.fromEntries(names.map((n, i) => [n, req.params[i]]));
      const params = route.params === undefined ? {} : parseWith(route.params, rawParams, 'path');
      const q = parseWith(query ?? NO_QUERY, queryObject(req.query), 'query') as z.output<Q> & { tenant?: string };
      const store = this.store;
      if (store === undefined) throw new TroupeError('NOT_FOUND', 'This server keeps no store (TROUPE_STORE=none)', { reason: 'no_store' });
      const tenant = route.tenanted ? await this.tenantOf(route, principal, q.tenant, req.ip) : principal.tenant;
      const body = route.body === undefined ? undefined : parseWith(route.body, await jsonBody(req.body), 'body');
      if (route.tenanted && route.verb !== 'GET' && tenant === principal.tenant) await store.ensureTenant(tenant);
      const { tenant: _asked, ...rest } = q;
      const out = await route.handle({
        principal, who: actorOf(principal, req.ip), tenant, store, params: params as z.output<P>, query: rest as z.output<Q>, body: body as z.output<B>,
      });
      req.ex.json(route.status ?? 200, out);
    }, { name: route.action, query: true, ...(route.signIn ? { limit: 'connect' as const } : {}) });
  }

  private async tenantOf(route: AdminRoute, p: Principal, asked: string | undefined, ip: string): Promise<string> {
    if (asked === undefined || asked === p.tenant) return p.tenant;
    const store = this.store as AdminStore;
    if (!allows(p.scopes, 'platform')) {
      const who = actorOf(p, ip);
      await store.audit(p.tenant, {
        actor: who.actor, action: route.action, outcome: 'denied', target: `tenant:${asked}`, sourceIp: ip,
        detail: { ...who.detail, reason: 'other_tenant' },
      }).catch((err: unknown) => this.log('auditing a refused admin call failed', err));
      throw new TroupeError('FORBIDDEN', "An admin sees and changes only its own tenant (?tenant= needs the platform scope)", { reason: 'other_tenant', field: 'tenant' });
    }
    if (!(await store.tenantExists(asked))) throw new TroupeError('NOT_FOUND', `tenant ${asked} does not exist`, { reason: 'no_tenant', field: 'tenant' });
    return asked;
  }
}
