import type { Queryable } from '../db.js';
import { translateDbError } from '../errors.js';
import { nonNegativeInt, nonNegativeNumber, oneOf, optionalText, text } from '../validate.js';

export const USAGE_OUTCOMES = ['ok', 'error', 'aborted'] as const;
export type UsageOutcome = (typeof USAGE_OUTCOMES)[number];

/** One finished run's usage, as the usage recorder writes it. */
export interface UsageEvent {
  at: Date;
  runId: string;
  user: string;
  apiKeyId?: string;
  agent: string;
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  costUsd: number;
  /** False when the model had no price: the cost is 0 and the row says so. */
  priced: boolean;
  latencyMs: number;
  outcome: UsageOutcome;
  /** The turn's session (a stateless request's own `~…` key), when the front door knew it. */
  sessionKey?: string;
  /** The client's address, as the audit would have it. */
  sourceIp?: string;
  /** How the turn ended: chat.final's stop reason, or chat.error's code. */
  endReason?: string;
}

export const USAGE_GROUPS = ['tenant', 'key', 'agent', 'model', 'day', 'user'] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

export interface UsageQuery {
  from: Date;
  to: Date;
  groupBy: UsageGroup;
  /** Rows returned at most (the largest groups by cost, then tokens). Default 1000. */
  limit?: number;
}

export interface UsageRow {
  /** The group's value: tenant id, key id (`-` for JWT callers), agent, model or `YYYY-MM-DD` (UTC). */
  group: string;
  runs: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  costUsd: number;
  /** Runs whose model had no price (their cost counts as 0). */
  unpricedRuns: number;
}

export interface UsageRepo {
  appendMany(events: readonly UsageEvent[]): Promise<number>;
  summarize(query: UsageQuery): Promise<UsageRow[]>;
}

const GROUP_SQL: Record<UsageGroup, string> = {
  tenant: 'tenant_id',
  key: "COALESCE(api_key_id, '-')",
  agent: 'agent_id',
  model: 'model',
  user: 'user_id',
  day: `to_char(date_trunc('day', at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')`,
};

/** The one summary query: over what RLS lets `q` see (a tenant), or every tenant on the owner connection. */
export async function summarizeUsage(q: Queryable, query: UsageQuery): Promise<UsageRow[]> {
  const group = GROUP_SQL[oneOf('groupBy', query.groupBy, USAGE_GROUPS)];
  const limit = Math.min(Math.max(Math.trunc(query.limit ?? 1000), 1), 10_000);
  const res = await q.query<Record<string, unknown>>(
    `SELECT ${group} AS grp, count(*)::float8 AS runs, sum(input_tokens)::float8 AS input_tokens,
            sum(output_tokens)::float8 AS output_tokens, sum(cached_tokens)::float8 AS cached_tokens,
            sum(cost_usd)::float8 AS cost_usd, count(*) FILTER (WHERE NOT priced)::float8 AS unpriced
       FROM usage_events WHERE at >= $1 AND at < $2
      GROUP BY grp ORDER BY sum(cost_usd) DESC, sum(input_tokens + output_tokens) DESC, grp LIMIT $3`,
    [query.from, query.to, limit],
  );
  return res.rows.map((r) => ({
    group: String(r.grp), runs: Number(r.runs), inputTokens: Number(r.input_tokens), outputTokens: Number(r.output_tokens),
    cachedTokens: Number(r.cached_tokens), costUsd: Number(r.cost_usd), unpricedRuns: Number(r.unpriced),
  }));
}

const USAGE_INSERT = `INSERT INTO usage_events (at, run_id, user_id, api_key_id, agent_id, provider, model, input_tokens,
    output_tokens, cached_tokens, cost_usd, priced, latency_ms, outcome, session_key, source_ip, end_reason)
  SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[],
    $9::bigint[], $10::bigint[], $11::numeric[], $12::boolean[], $13::integer[], $14::text[], $15::text[], $16::text[], $17::text[])`;

export class SqlUsageRepo implements UsageRepo {
  constructor(private readonly q: Queryable) {}

  /**
   * One INSERT per call (the recorder batches): each column is one array parameter through
   * unnest, so the statement is the same for any batch size (a VALUES list of 14 parameters
   * a row cost PGlite 1.5–3× more CPU per row; bench/RESULTS.md, issue 12). The row is also the
   * turn's record (session key, address, how it ended): no audit row repeats it.
   */
  async appendMany(events: readonly UsageEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const cols: unknown[][] = Array.from({ length: 17 }, () => new Array<unknown>(events.length));
    events.forEach((e, i) => {
      const row = [
        e.at.toISOString(), text('runId', e.runId, 128), text('user', e.user, 256), optionalText('apiKeyId', e.apiKeyId, 128),
        text('agent', e.agent, 128), text('provider', e.provider, 128), text('model', e.model, 256),
        nonNegativeInt('inputTokens', e.inputTokens), nonNegativeInt('outputTokens', e.outputTokens),
        nonNegativeInt('cachedTokens', e.cachedTokens), nonNegativeNumber('costUsd', e.costUsd), e.priced === true,
        nonNegativeInt('latencyMs', Math.round(e.latencyMs)), oneOf('outcome', e.outcome, USAGE_OUTCOMES),
        optionalText('sessionKey', e.sessionKey, 512), optionalText('sourceIp', e.sourceIp, 64), optionalText('endReason', e.endReason, 64),
      ];
      for (let c = 0; c < row.length; c++) cols[c][i] = row[c];
    });
    await this.q.query(USAGE_INSERT, cols).catch(translateDbError);
    return events.length;
  }

  summarize(query: UsageQuery): Promise<UsageRow[]> {
    return summarizeUsage(this.q, query);
  }
}
