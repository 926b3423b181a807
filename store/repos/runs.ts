import type { Queryable } from '../db.js';
import { StoreError, translateDbError } from '../errors.js';
import { camelRow, firstOrNull } from '../rows.js';
import { nonNegativeInt, nonNegativeNumber, notFound, oneOf, optionalText, pageLimit, text } from '../validate.js';

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'aborted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
const FINAL: readonly RunStatus[] = ['succeeded', 'failed', 'aborted'];

export interface Run {
  tenantId: string;
  id: string;
  sessionId: string;
  agentId: string;
  status: RunStatus;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  error: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface RunsRepo {
  create(input: { id?: string; sessionId: string; agentId: string }): Promise<Run>;
  get(id: string): Promise<Run | null>;
  /** Moves the run on; a finished run (succeeded/failed/aborted) cannot change again. */
  setStatus(id: string, status: RunStatus, error?: string): Promise<Run>;
  /** Adds to the running totals (streamed usage arrives in pieces). */
  addUsage(id: string, usage: Usage): Promise<Run>;
  listBySession(sessionId: string, opts?: { limit?: number }): Promise<Run[]>;
}

const COLUMNS = `tenant_id, id, session_id, agent_id, status, input_tokens::float8 AS input_tokens,
  output_tokens::float8 AS output_tokens, cost_usd::float8 AS cost_usd, error, created_at, finished_at`;

const toRun = (r: Record<string, unknown>): Run => camelRow<Run>(r);

export class SqlRunsRepo implements RunsRepo {
  constructor(private readonly q: Queryable) {}

  async create(input: { id?: string; sessionId: string; agentId: string }): Promise<Run> {
    const res = await this.q
      .query(
        `INSERT INTO runs (id, session_id, agent_id) VALUES (COALESCE($1, gen_random_uuid()::text), $2, $3)
         RETURNING ${COLUMNS}`,
        [optionalText('id', input.id), text('sessionId', input.sessionId), text('agentId', input.agentId)],
      )
      .catch(translateDbError);
    return toRun(res.rows[0]);
  }

  async get(id: string): Promise<Run | null> {
    const res = await this.q.query(`SELECT ${COLUMNS} FROM runs WHERE id = $1`, [text('id', id)]);
    return firstOrNull<Run>(res);
  }

  async setStatus(id: string, status: RunStatus, error?: string): Promise<Run> {
    const next = oneOf('status', status, RUN_STATUSES);
    const res = await this.q.query(
      `UPDATE runs SET status = $2, error = COALESCE($3, error),
         finished_at = CASE WHEN $2 = ANY($4::text[]) THEN now() ELSE finished_at END
       WHERE id = $1 AND NOT (status = ANY($4::text[]))
       RETURNING ${COLUMNS}`,
      [text('id', id), next, optionalText('error', error, 4000), FINAL],
    );
    if (res.rows.length === 1) return toRun(res.rows[0]);
    const existing = await this.get(id);
    if (existing === null) throw notFound('run', id);
    throw new StoreError('INVALID_REQUEST', `run ${id} already finished as ${existing.status}`);
  }

  async addUsage(id: string, usage: Usage): Promise<Run> {
    const res = await this.q.query(
      `UPDATE runs SET input_tokens = input_tokens + $2, output_tokens = output_tokens + $3,
         cost_usd = cost_usd + $4
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [
        text('id', id),
        nonNegativeInt('inputTokens', usage.inputTokens),
        nonNegativeInt('outputTokens', usage.outputTokens),
        nonNegativeNumber('costUsd', usage.costUsd),
      ],
    );
    if (res.rows.length === 0) throw notFound('run', id);
    return toRun(res.rows[0]);
  }

  async listBySession(sessionId: string, opts: { limit?: number } = {}): Promise<Run[]> {
    const res = await this.q.query(
      `SELECT ${COLUMNS} FROM runs WHERE session_id = $1 ORDER BY created_at, id LIMIT $2`,
      [text('sessionId', sessionId), pageLimit(opts.limit)],
    );
    return res.rows.map(toRun);
  }
}
