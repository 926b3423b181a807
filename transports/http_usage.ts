/**
 * GET /v1/usage: tokens, runs and cost over a time range, grouped by tenant,
 * key, agent, model, user or day (UTC).
 *
 *   ?from=2026-12-01&to=2026-12-06T12:00:00Z&group_by=model[&tenant=acme]
 *
 * The access table lets in `usage:read` (and `admin`, which implies it); such a
 * caller reads its own tenant only. A `platform` caller reads every tenant, or
 * the one named by `tenant=`. Bad ranges are a 400 naming the field.
 */
import { allows } from '../security/scopes.js';
import type { Principal } from '../security/types.js';
import type { FrontDoorContext } from './context.js';
import { TroupeError, invalidField } from './errors.js';
import type { HttpEdge } from './http_edge.js';
import { USAGE_GROUP_BY, type UsageGroupBy } from './usage.js';

const DAY_MS = 86_400_000;
/** The widest range one query may cover. */
export const MAX_USAGE_RANGE_DAYS = 366;
const DEFAULT_RANGE_DAYS = 30;

export interface UsageParams {
  from: Date;
  to: Date;
  groupBy: UsageGroupBy;
  tenant: string | undefined;
}

function parseTime(field: string, raw: string | null): Date | undefined {
  if (raw === null || raw === '') return undefined;
  // A date (2026-12-01) or an ISO 8601 time with a zone; nothing else (Date.parse accepts too much).
  if (!/^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:\d\d))?$/.test(raw)) {
    throw invalidField(field, `${field} must be a date (YYYY-MM-DD) or an ISO 8601 time with a zone`, 'field_type');
  }
  const day = raw.slice(0, 10);
  const t = Date.parse(raw.length === 10 ? `${raw}T00:00:00Z` : raw);
  // Date.parse rolls 2026-02-31 over into March: the calendar date must read back the same.
  const dayAt = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(t) || Number.isNaN(dayAt) || new Date(dayAt).toISOString().slice(0, 10) !== day) {
    throw invalidField(field, `${field} is not a valid date`, 'field_range');
  }
  return new Date(t);
}

/** Reads and checks the query string; throws INVALID_REQUEST naming the field. */
export function parseUsageQuery(query: string, now = Date.now()): UsageParams {
  const q = new URLSearchParams(query);
  const to = parseTime('to', q.get('to')) ?? new Date(now);
  const from = parseTime('from', q.get('from')) ?? new Date(to.getTime() - DEFAULT_RANGE_DAYS * DAY_MS);
  if (from.getTime() >= to.getTime()) throw invalidField('from', 'from must be before to', 'field_range');
  if (to.getTime() - from.getTime() > MAX_USAGE_RANGE_DAYS * DAY_MS) {
    throw invalidField('to', `a usage query covers at most ${MAX_USAGE_RANGE_DAYS} days`, 'field_range');
  }
  const group = q.get('group_by') ?? 'model';
  if (!(USAGE_GROUP_BY as readonly string[]).includes(group)) {
    throw invalidField('group_by', `group_by must be one of ${USAGE_GROUP_BY.join(', ')}`, 'field_range');
  }
  const tenant = q.get('tenant') ?? undefined;
  if (tenant !== undefined && (tenant.length === 0 || tenant.length > 128)) throw invalidField('tenant', 'tenant must be 1..128 characters', 'field_length');
  return { from, to, groupBy: group as UsageGroupBy, tenant };
}

/** Which tenant a caller reads: a platform caller any (undefined: all); everyone else its own. */
export function usageTenantFor(p: Principal, asked: string | undefined): string | undefined {
  if (allows(p.scopes, 'platform')) return asked;
  if (asked !== undefined && asked !== p.tenant) {
    throw new TroupeError('FORBIDDEN', 'A tenant can read only its own usage', { reason: 'other_tenant', field: 'tenant' });
  }
  return p.tenant;
}

export function registerUsageRoute(edge: HttpEdge, ctx: FrontDoorContext): void {
  edge.route('GET', '/v1/usage', async ({ ex, principal, query }) => {
    if (ctx.usage === undefined) throw new TroupeError('NOT_FOUND', 'This server keeps no usage', { reason: 'no_usage_store' });
    const params = parseUsageQuery(query);
    const tenant = usageTenantFor(principal as Principal, params.tenant);
    const rows = await ctx.usage.summarize({ tenant, from: params.from, to: params.to, groupBy: params.groupBy });
    ex.json(200, {
      object: 'usage', from: params.from.toISOString(), to: params.to.toISOString(), group_by: params.groupBy,
      ...(tenant === undefined ? {} : { tenant }), data: rows,
    });
  }, { name: 'usage.get', query: true });
}
