import type { Queryable } from '../db.js';
import { StoreError, translateDbError } from '../errors.js';
import { camelRow } from '../rows.js';
import { jsonObject, nonNegativeInt, notFound, oneOf, optionalText, pageLimit, text } from '../validate.js';

export type ToolCallStatus = 'running' | 'succeeded' | 'failed';

export interface ToolCall {
  tenantId: string;
  id: string;
  runId: string;
  name: string;
  args: Record<string, unknown>;
  status: ToolCallStatus;
  result: unknown;
  error: string | null;
  durationMs: number | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface ToolCallOutcome {
  status: 'succeeded' | 'failed';
  result?: unknown;
  error?: string;
  durationMs: number;
}

export interface ToolCallsRepo {
  start(input: { id?: string; runId: string; name: string; args: Record<string, unknown> }): Promise<ToolCall>;
  finish(id: string, outcome: ToolCallOutcome): Promise<ToolCall>;
  listByRun(runId: string, opts?: { limit?: number }): Promise<ToolCall[]>;
}

const COLUMNS = 'tenant_id, id, run_id, name, args, status, result, error, duration_ms, created_at, finished_at';
const MAX_RESULT_BYTES = 256 * 1024;

const toToolCall = (r: Record<string, unknown>): ToolCall => camelRow<ToolCall>(r);

export class SqlToolCallsRepo implements ToolCallsRepo {
  constructor(private readonly q: Queryable) {}

  async start(input: { id?: string; runId: string; name: string; args: Record<string, unknown> }): Promise<ToolCall> {
    const res = await this.q
      .query(
        `INSERT INTO tool_calls (id, run_id, name, args) VALUES (COALESCE($1, gen_random_uuid()::text), $2, $3, $4)
         RETURNING ${COLUMNS}`,
        [
          optionalText('id', input.id),
          text('runId', input.runId),
          text('name', input.name),
          JSON.stringify(jsonObject('args', input.args)),
        ],
      )
      .catch(translateDbError);
    return toToolCall(res.rows[0]);
  }

  async finish(id: string, outcome: ToolCallOutcome): Promise<ToolCall> {
    // Results are stored as a JSON envelope so any JSON value (string, array...) fits, bounded.
    const result = outcome.result === undefined ? null : JSON.stringify(jsonObject('result', { value: outcome.result }, MAX_RESULT_BYTES).value);
    const res = await this.q.query(
      `UPDATE tool_calls SET status = $2, result = $3::jsonb, error = $4, duration_ms = $5, finished_at = now()
       WHERE id = $1 AND status = 'running' RETURNING ${COLUMNS}`,
      [
        text('id', id),
        oneOf('status', outcome.status, ['succeeded', 'failed'] as const),
        result,
        optionalText('error', outcome.error, 4000),
        nonNegativeInt('durationMs', outcome.durationMs),
      ],
    );
    if (res.rows.length === 1) return toToolCall(res.rows[0]);
    const exists = await this.q.query('SELECT 1 FROM tool_calls WHERE id = $1', [id]);
    if (exists.rows.length === 0) throw notFound('tool call', id);
    throw new StoreError('INVALID_REQUEST', `tool call ${id} already finished`);
  }

  async listByRun(runId: string, opts: { limit?: number } = {}): Promise<ToolCall[]> {
    const res = await this.q.query(
      `SELECT ${COLUMNS} FROM tool_calls WHERE run_id = $1 ORDER BY created_at, id LIMIT $2`,
      [text('runId', runId), pageLimit(opts.limit)],
    );
    return res.rows.map(toToolCall);
  }
}
