import type { Queryable } from '../db.js';
import { StoreError, translateDbError } from '../errors.js';
import { camelRow, firstOrNull } from '../rows.js';
import { nonNegativeInt, oneOf, optionalText, pageLimit, text } from '../validate.js';
import type { AuditRepo } from './audit.js';

export const TEAM_RUN_STATUSES = ['running', 'done', 'failed', 'cancelled'] as const;
export type TeamRunStatus = (typeof TEAM_RUN_STATUSES)[number];

/** One piece of work a lead gives its team, from its first task until it ends. */
export interface TeamRun {
  tenantId: string;
  id: string;
  teamId: string;
  leadAgent: string;
  leadSession: string;
  status: TeamRunStatus;
  maxTasks: number;
  maxDepth: number;
  tokenBudget: number;
  tasksCreated: number;
  tokensUsed: number;
  deadlineAt: Date;
  error: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface NewTeamRun {
  teamId: string;
  leadAgent: string;
  leadSession: string;
  maxTasks: number;
  maxDepth: number;
  tokenBudget: number;
  /** The run fails once this long has passed without it ending. */
  maxDurationMs: number;
}

export interface TeamRunsRepo {
  create(input: NewTeamRun, by: string): Promise<TeamRun>;
  get(id: string): Promise<TeamRun | null>;
  /** The running run this lead session leads for this team, if any. */
  live(teamId: string, leadSession: string): Promise<TeamRun | null>;
  listRunning(opts?: { limit?: number }): Promise<TeamRun[]>;
  /**
   * Ends a running run. Unless it ended `done`, its unfinished tasks are
   * cancelled with it (claims dropped), so nothing is left for anyone to pick up.
   * Null when the run had already ended.
   */
  finish(id: string, status: Exclude<TeamRunStatus, 'running'>, by: string, error?: string): Promise<TeamRun | null>;
  /** Adds tokens spent by the run's tasks; returns the run after the addition. */
  addTokens(id: string, tokens: number): Promise<TeamRun>;
}

const COLUMNS = `tenant_id, id, team_id, lead_agent, lead_session, status, max_tasks, max_depth,
  token_budget::float8 AS token_budget, tasks_created, tokens_used::float8 AS tokens_used, deadline_at, error,
  created_at, finished_at`;

const toRun = (r: Record<string, unknown>): TeamRun => camelRow<TeamRun>(r);

function positiveInt(field: string, value: unknown): number {
  const n = nonNegativeInt(field, value);
  if (n === 0) throw new StoreError('INVALID_REQUEST', `${field} must be at least 1`);
  return n;
}

export class SqlTeamRunsRepo implements TeamRunsRepo {
  constructor(
    private readonly q: Queryable,
    private readonly audit: AuditRepo,
  ) {}

  async create(input: NewTeamRun, by: string): Promise<TeamRun> {
    const res = await this.q
      .query(
        `INSERT INTO team_runs (team_id, lead_agent, lead_session, max_tasks, max_depth, token_budget, deadline_at)
         VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7::float8 / 1000)) RETURNING ${COLUMNS}`,
        [
          text('teamId', input.teamId, 128), text('leadAgent', input.leadAgent, 128), text('leadSession', input.leadSession, 256),
          positiveInt('maxTasks', input.maxTasks), positiveInt('maxDepth', input.maxDepth),
          positiveInt('tokenBudget', input.tokenBudget), positiveInt('maxDurationMs', input.maxDurationMs),
        ],
      )
      .catch(translateDbError);
    const run = toRun(res.rows[0]);
    await this.audit.append({
      actor: by, action: 'team.run.start', target: run.id, outcome: 'success',
      detail: { teamId: run.teamId, leadAgent: run.leadAgent, leadSession: run.leadSession },
    });
    return run;
  }

  async get(id: string): Promise<TeamRun | null> {
    return firstOrNull<TeamRun>(await this.q.query(`SELECT ${COLUMNS} FROM team_runs WHERE id = $1`, [text('id', id)]));
  }

  async live(teamId: string, leadSession: string): Promise<TeamRun | null> {
    const res = await this.q.query(
      `SELECT ${COLUMNS} FROM team_runs WHERE team_id = $1 AND lead_session = $2 AND status = 'running'
       ORDER BY created_at DESC LIMIT 1`,
      [text('teamId', teamId, 128), text('leadSession', leadSession, 256)],
    );
    return firstOrNull<TeamRun>(res);
  }

  async listRunning(opts: { limit?: number } = {}): Promise<TeamRun[]> {
    const res = await this.q.query(
      `SELECT ${COLUMNS} FROM team_runs WHERE status = 'running' ORDER BY created_at LIMIT $1`,
      [pageLimit(opts.limit, 500, 10_000)],
    );
    return res.rows.map(toRun);
  }

  async finish(id: string, status: Exclude<TeamRunStatus, 'running'>, by: string, error?: string): Promise<TeamRun | null> {
    const next = oneOf('status', status, ['done', 'failed', 'cancelled'] as const);
    const res = await this.q.query(
      `UPDATE team_runs SET status = $2, error = $3, finished_at = now()
       WHERE id = $1 AND status = 'running' RETURNING ${COLUMNS}`,
      [text('id', id), next, optionalText('error', error, 4000)],
    );
    if (res.rows.length === 0) return null;
    const run = toRun(res.rows[0]);
    let cancelled: string[] = [];
    if (next !== 'done') {
      const tasks = await this.q.query<{ id: string }>(
        `UPDATE team_tasks SET status = 'cancelled', error = COALESCE(error, $2), claimed_by = NULL, claim_token = NULL,
           lease_expires_at = NULL, updated_at = now(), finished_at = now()
         WHERE run_id = $1 AND status NOT IN ('done', 'failed', 'cancelled') RETURNING id`,
        [run.id, `the team run ended: ${next}${error ? ` (${error})` : ''}`],
      );
      cancelled = tasks.rows.map((r) => r.id);
    }
    await this.audit.appendMany([
      { actor: by, action: `team.run.${next}`, target: run.id, outcome: next === 'done' ? 'success' : 'failure', detail: { teamId: run.teamId, ...(error ? { error } : {}) } },
      ...cancelled.map((taskId) => ({
        actor: by, action: 'team.task.cancelled', target: taskId, outcome: 'failure' as const, detail: { teamId: run.teamId, runId: run.id, reason: `run ${next}` },
      })),
    ]);
    return run;
  }

  async addTokens(id: string, tokens: number): Promise<TeamRun> {
    const res = await this.q.query(
      `UPDATE team_runs SET tokens_used = tokens_used + $2 WHERE id = $1 RETURNING ${COLUMNS}`,
      [text('id', id), nonNegativeInt('tokens', tokens)],
    );
    if (res.rows.length === 0) throw new StoreError('NOT_FOUND', `team run ${id} not found`);
    return toRun(res.rows[0]);
  }
}
