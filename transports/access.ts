/**
 * Who may call what: the one access table of the front door. Every WebSocket
 * method (`WS <method>`) and every HTTP route (`<VERB> <pattern>`) has an entry
 * naming the scope it needs (security/scopes.ts), or `public`. The table is
 * enforced in one hook, `authorize`, which the WS dispatcher and the HTTP edge
 * call before any handler runs; a route registered without an entry fails at
 * start-up, and a method without one is refused.
 *
 * A refusal is FORBIDDEN and goes to `onRefused` (the gateway audits it).
 */
import { timingSafeEqual } from 'node:crypto';
import { allows, type Scope } from '../security/scopes.js';
import type { Principal } from '../security/types.js';
import { TroupeError } from './errors.js';

/** `authenticated`: any valid credential, whatever its scopes (the handler bounds what it may do by them). */
export type AccessRule = Scope | 'public' | 'authenticated';

const ADMIN = '/admin/v1';

export const ACCESS: Readonly<Record<string, AccessRule>> = {
  // WebSocket methods (the upgrade itself is public: credentials come with it or with connect)
  'GET /ws': 'public',
  'WS connect': 'public',
  'WS ping': 'chat',
  'WS health': 'chat',
  'WS chat.send': 'chat',
  'WS chat.abort': 'chat',
  'WS chat.history': 'chat',
  'WS sessions.list': 'chat',
  'WS agents.list': 'chat',
  'WS admin.fault': 'platform',
  'WS team.board': 'chat',
  'WS team.watch': 'chat',
  // OpenAI-compatible API
  'POST /v1/chat/completions': 'chat',
  'GET /v1/models': 'chat',
  'GET /v1/teams/:team/board': 'chat',
  // usage reports: the caller's own tenant (every tenant for platform; transports/http_usage.ts)
  'GET /v1/usage': 'usage:read',
  // operations: probes are open; /metrics is open only while no metricsToken is configured
  'GET /health': 'public',
  'GET /ready': 'public',
  'GET /metrics': 'metrics',
  // chat-platform webhooks: each adapter verifies the platform's signature (transports/channels)
  'POST /channels/:id': 'public',
  'GET /channels/:id': 'public',
  // admin API (gateway/admin_api): the caller's own tenant, or ?tenant= another one with platform
  [`GET ${ADMIN}/openapi.json`]: 'public',
  // sign-in: a credential exchanged for a short-lived token carrying at most its scopes (gateway/admin_api/token.ts)
  [`POST ${ADMIN}/token`]: 'authenticated',
  [`GET ${ADMIN}/tenants`]: 'platform',
  [`POST ${ADMIN}/tenants`]: 'platform',
  [`GET ${ADMIN}/tenants/:id`]: 'platform',
  [`GET ${ADMIN}/agents`]: 'admin',
  [`GET ${ADMIN}/agents/:id`]: 'admin',
  [`PUT ${ADMIN}/agents/:id`]: 'admin',
  [`PATCH ${ADMIN}/agents/:id`]: 'admin',
  [`DELETE ${ADMIN}/agents/:id`]: 'admin',
  [`GET ${ADMIN}/providers`]: 'admin',
  [`GET ${ADMIN}/providers/:id`]: 'admin',
  [`PUT ${ADMIN}/providers/:id`]: 'admin',
  [`DELETE ${ADMIN}/providers/:id`]: 'admin',
  [`GET ${ADMIN}/mcp-servers`]: 'admin',
  [`GET ${ADMIN}/mcp-servers/:id`]: 'admin',
  [`PUT ${ADMIN}/mcp-servers/:id`]: 'admin',
  [`PATCH ${ADMIN}/mcp-servers/:id`]: 'admin',
  [`DELETE ${ADMIN}/mcp-servers/:id`]: 'admin',
  [`GET ${ADMIN}/api-keys`]: 'admin',
  [`POST ${ADMIN}/api-keys`]: 'admin',
  [`DELETE ${ADMIN}/api-keys/:id`]: 'admin',
  [`GET ${ADMIN}/secrets`]: 'admin',
  [`PUT ${ADMIN}/secrets/:name`]: 'admin',
  [`POST ${ADMIN}/secrets/rotate`]: 'admin',
  [`GET ${ADMIN}/audit`]: 'audit:read',
  [`GET ${ADMIN}/audit/verify`]: 'audit:read',
  [`GET ${ADMIN}/channels`]: 'channels',
  [`POST ${ADMIN}/channels/:id/pairings/approve`]: 'channels',
  [`POST ${ADMIN}/channels/:id/pairings/deny`]: 'channels',
  // the web console's static files (transports/http_console.ts); its data comes from the routes above
  'GET /console': 'public',
  'GET /console/:file': 'public',
  // everything else: a JSON 404
  'ANY /*': 'public',
};

export function ruleOf(key: string): AccessRule | undefined {
  return Object.hasOwn(ACCESS, key) ? ACCESS[key] : undefined;
}

/** What `authorize` needs from the front door. */
export interface AccessContext {
  /** Told of every refusal of an authenticated caller, for the audit log. */
  onRefused?: (refusal: Refusal) => void;
}

export interface Refusal {
  principal: Principal;
  /** The table key: `WS chat.send`, `GET /admin/v1/agents`. */
  what: string;
  needed: Scope | 'unlisted';
  ip?: string;
}

/**
 * The hook: throws FORBIDDEN unless `principal` holds the scope `what` needs.
 * Public entries pass anyone, `authenticated` ones any caller; a key missing
 * from the table passes no one.
 */
export function authorize(access: AccessContext, principal: Principal, what: string, ip?: string): void {
  const rule = ruleOf(what);
  if (rule === 'public' || rule === 'authenticated') return;
  if (rule !== undefined && allows(principal.scopes, rule)) return;
  access.onRefused?.({ principal, what, needed: rule ?? 'unlisted', ...(ip === undefined ? {} : { ip }) });
  throw new TroupeError('FORBIDDEN', rule === undefined ? `${what} has no access rule` : `${what} needs the "${rule}" scope`, {
    reason: rule === undefined ? 'no_access_rule' : 'missing_scope',
  });
}

/** The static /metrics bearer (`metricsToken`), compared in constant time. */
export function isStaticMetricsToken(authorization: string, metricsToken: string | undefined): boolean {
  if (metricsToken === undefined) return false;
  const given = Buffer.from(authorization);
  const expected = Buffer.from(`Bearer ${metricsToken}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
