import type { Queryable } from '../db.js';
import { StoreError, translateDbError } from '../errors.js';
import { camelRow, firstOrNull } from '../rows.js';
import { jsonObject, nonNegativeInt, notFound, oneOf, optionalText, pageLimit, text } from '../validate.js';
import type { AuditEvent, AuditRepo } from './audit.js';

/**
 * The task board. A task moves like this (every arrow is one conditional
 * UPDATE, audited in the same transaction):
 *
 *   pending ──claim──► claimed ──start──► running ──submit──► done
 *     ▲  ▲               │                  │  │              (review: none)
 *     │  └──lease expired┴──────────────────┘  └─submit─► in_review ──approve──► done
 *     │                                                     │  reject, rounds left
 *     └─────────────────────────────────────────────────────┘  reject, no rounds ──► failed
 *   any unfinished state ──cancel / dependency failed / run ended──► cancelled
 *   claimed/running ──fail, or lease expired max_attempts times──► failed
 *
 * The claim token is the lease: only the holder of the current token may start,
 * submit or fail the task, so a member whose lease expired cannot finish work
 * that someone else holds now.
 */

export const TEAM_TASK_STATUSES = ['pending', 'claimed', 'running', 'in_review', 'done', 'failed', 'cancelled'] as const;
export type TeamTaskStatus = (typeof TEAM_TASK_STATUSES)[number];
export const TEAM_TASK_FINAL: readonly TeamTaskStatus[] = ['done', 'failed', 'cancelled'];
export const TEAM_REVIEW_KINDS = ['none', 'agent', 'schema'] as const;
export type TeamReviewKind = (typeof TEAM_REVIEW_KINDS)[number];

export interface TeamReview {
  round: number;
  reviewer: string;
  verdict: 'approve' | 'reject';
  feedback: string;
  at: string;
}

export interface TeamTask {
  tenantId: string;
  id: string;
  teamId: string;
  runId: string;
  /** Order of creation within the run (1, 2, …). */
  seq: number;
  title: string;
  input: string;
  /** The member it is for; null: any member. */
  assignee: string | null;
  blockedBy: string[];
  depth: number;
  /** Agents the work passed through on its way here (loop detection). */
  chain: string[];
  status: TeamTaskStatus;
  review: TeamReviewKind;
  resultSchema: Record<string, unknown> | null;
  maxRounds: number;
  round: number;
  maxAttempts: number;
  attempts: number;
  claimedBy: string | null;
  claimToken: string | null;
  leaseExpiresAt: Date | null;
  result: string | null;
  error: string | null;
  /** The last reviewer's feedback, for the member redoing the task. */
  feedback: string | null;
  reviews: TeamReview[];
  tokens: number;
  /** When the lead was handed this task's outcome; null: not yet. */
  deliveredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export interface NewTeamTask {
  runId: string;
  teamId: string;
  title: string;
  input: string;
  assignee?: string;
  blockedBy?: string[];
  review?: TeamReviewKind;
  resultSchema?: Record<string, unknown>;
  maxRounds?: number;
  maxAttempts?: number;
  depth?: number;
  chain?: string[];
}

export interface TaskFilter {
  runId?: string;
  status?: TeamTaskStatus[];
  assignee?: string;
  afterSeq?: number;
  limit?: number;
}

export interface Lease {
  id: string;
  token: string;
}

export interface TeamTasksRepo {
  /** Refused past the run's max tasks or depth, or with a dependency outside the run. */
  create(input: NewTeamTask, by: string): Promise<TeamTask>;
  get(teamId: string, id: string): Promise<TeamTask | null>;
  list(teamId: string, filter?: TaskFilter): Promise<TeamTask[]>;
  /**
   * Atomically takes the oldest claimable task for `member`: pending, for it or
   * for any member, every dependency done, its run still running, within its
   * token budget and before its deadline. Null: none.
   */
  claim(input: { teamId: string; member: string; taskId?: string; leaseMs: number }): Promise<TeamTask | null>;
  /** claimed → running (the member's run began). Null: the token is stale. */
  start(lease: Lease, leaseMs: number): Promise<TeamTask | null>;
  /** Pushes out the leases still held under these tokens; returns how many were renewed. */
  heartbeat(leases: readonly Lease[], leaseMs: number): Promise<number>;
  /** The member's result: done, or in review when the task asks for one. Null: stale token. */
  submit(lease: Lease, result: string, tokens: number, by: string): Promise<TeamTask | null>;
  /** The member gave up: failed for good. Null: stale token. */
  fail(lease: Lease, reason: string, by: string): Promise<TeamTask | null>;
  /** The attempt broke (provider error, crash): pending again, or failed past max attempts. */
  release(lease: Lease, reason: string, by: string): Promise<TeamTask | null>;
  /** Takes the oldest task waiting for a reviewer (its run within its budget and deadline, as for claim). */
  claimReview(input: { teamId: string; reviewer: string; leaseMs: number }): Promise<TeamTask | null>;
  /**
   * A verdict on a task in review. `lease` null: a check that needs no claim (schema).
   * Reject sends it back with feedback while rounds remain, else fails it with the reviews.
   */
  review(teamId: string, id: string, lease: Lease | null, verdict: { reviewer: string; approve: boolean; feedback: string }): Promise<TeamTask | null>;
  /** Any unfinished task → cancelled. Null: already finished (or not on this team's board). */
  cancel(teamId: string, id: string, by: string, reason?: string): Promise<TeamTask | null>;
  /** Leases past their expiry are dropped: the task goes back to pending (or fails past max attempts). */
  reclaimExpired(by: string, limit?: number): Promise<TeamTask[]>;
  /** Pending tasks of a run whose dependency failed or was cancelled are cancelled (transitively). */
  cancelBlocked(runId: string, by: string): Promise<TeamTask[]>;
  /** Finished tasks of a run whose outcome the lead has not been handed yet, in order. */
  undelivered(runId: string, limit?: number): Promise<TeamTask[]>;
  markDelivered(ids: readonly string[]): Promise<number>;
  /** Tasks of a run by status. */
  counts(runId: string): Promise<Record<TeamTaskStatus, number>>;
}

const COLUMNS = `tenant_id, id, team_id, run_id, seq, title, input, assignee, blocked_by, depth, chain, status, review,
  result_schema, max_rounds, round, max_attempts, attempts, claimed_by, claim_token, lease_expires_at, result, error,
  feedback, reviews, tokens::float8 AS tokens, delivered_at, created_at, updated_at, finished_at`;

const toTask = (r: Record<string, unknown>): TeamTask => camelRow<TeamTask>(r);

const MAX_LEASE_MS = 3_600_000;
/** Deepest chain of dependencies cancelBlocked follows. */
const MAX_BLOCK_DEPTH = 1_000;

function leaseMs(value: unknown): number {
  const n = nonNegativeInt('leaseMs', value);
  if (n < 10 || n > MAX_LEASE_MS) throw new StoreError('INVALID_REQUEST', `leaseMs must be between 10 and ${MAX_LEASE_MS}`);
  return n;
}

function ids(field: string, value: unknown, max = 100): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > max) throw new StoreError('INVALID_REQUEST', `${field} must be an array of at most ${max} ids`);
  return value.map((v, i) => text(`${field}[${i}]`, v, 128));
}

function boundedInt(field: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = nonNegativeInt(field, value);
  if (n < min || n > max) throw new StoreError('INVALID_REQUEST', `${field} must be between ${min} and ${max}`);
  return n;
}

/** Free text that may be empty (a task's input). */
function body(field: string, value: unknown, max = 65536): string {
  if (typeof value !== 'string' || value.length > max) throw new StoreError('INVALID_REQUEST', `${field} must be a string of at most ${max} characters`);
  return value;
}

const LEASE_SET = `claim_token = gen_random_uuid()::text, lease_expires_at = now() + make_interval(secs => $LEASE::float8 / 1000)`;
const CLEAR_CLAIM = 'claimed_by = NULL, claim_token = NULL, lease_expires_at = NULL';
/**
 * A run (`r`) that may still hand out work: running, within its token budget and before its deadline.
 * Checked in the claim's own statement: an attempt's tokens are added before its task is handed in,
 * so a claim that sees the task done also sees what it cost, and a run past its budget starts
 * nothing more however the coordinator's sweep interleaves with the count.
 */
const RUN_OPEN = `r.status = 'running' AND r.tokens_used <= r.token_budget AND r.deadline_at > now()`;

export class SqlTeamTasksRepo implements TeamTasksRepo {
  constructor(
    private readonly q: Queryable,
    private readonly audit: AuditRepo,
  ) {}

  private async record(by: string, tasks: readonly TeamTask[], extra: (t: TeamTask) => Record<string, unknown> = () => ({})): Promise<void> {
    if (tasks.length === 0) return;
    const events: AuditEvent[] = tasks.map((t) => ({
      actor: by, action: `team.task.${t.status}`, target: t.id,
      outcome: t.status === 'failed' || t.status === 'cancelled' ? 'failure' : 'success',
      detail: { teamId: t.teamId, runId: t.runId, attempts: t.attempts, round: t.round, ...(t.claimedBy ? { claimedBy: t.claimedBy } : {}), ...extra(t) },
    }));
    await this.audit.appendMany(events);
  }

  async create(input: NewTeamTask, by: string): Promise<TeamTask> {
    const teamId = text('teamId', input.teamId, 128);
    const runId = text('runId', input.runId, 128);
    const blockedBy = ids('blockedBy', input.blockedBy);
    const depth = boundedInt('depth', input.depth, 1, 1, 1000);
    const review = oneOf('review', input.review ?? 'none', TEAM_REVIEW_KINDS);
    const schema = input.resultSchema === undefined ? null : jsonObject('resultSchema', input.resultSchema, 64 * 1024);
    if (review === 'schema' && schema === null) throw new StoreError('INVALID_REQUEST', 'a schema review needs resultSchema');
    // One row lock on the run: the count, the limit and the sequence number move together.
    const slot = await this.q.query<{ seq: number; max_depth: number }>(
      `UPDATE team_runs SET tasks_created = tasks_created + 1
       WHERE id = $1 AND team_id = $2 AND status = 'running' AND tasks_created < max_tasks
       RETURNING tasks_created AS seq, max_depth`,
      [runId, teamId],
    );
    if (slot.rows.length === 0) {
      const run = await this.q.query<{ status: string; max_tasks: number }>(
        'SELECT status, max_tasks FROM team_runs WHERE id = $1 AND team_id = $2', [runId, teamId]);
      if (run.rows.length === 0) throw notFound('team run', runId);
      if (run.rows[0].status !== 'running') throw new StoreError('INVALID_REQUEST', `team run ${runId} has ended (${run.rows[0].status})`);
      throw new StoreError('INVALID_REQUEST', `limit: the team run has reached its maximum of ${run.rows[0].max_tasks} tasks`);
    }
    const { seq, max_depth: maxDepth } = slot.rows[0];
    if (depth > maxDepth) throw new StoreError('INVALID_REQUEST', `limit: depth ${depth} is past the team run's maximum depth of ${maxDepth}`);
    if (blockedBy.length > 0) {
      const known = await this.q.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM team_tasks WHERE run_id = $1 AND team_id = $2 AND id = ANY($3::text[])',
        [runId, teamId, blockedBy],
      );
      if (known.rows[0].n !== new Set(blockedBy).size) {
        throw new StoreError('INVALID_REQUEST', 'blockedBy names a task that is not in this team run');
      }
    }
    const res = await this.q
      .query(
        `INSERT INTO team_tasks (team_id, run_id, seq, title, input, assignee, blocked_by, depth, chain, review, result_schema,
           max_rounds, max_attempts)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ${COLUMNS}`,
        [
          teamId, runId, seq, text('title', input.title, 500), body('input', input.input),
          optionalText('assignee', input.assignee, 128), blockedBy, depth, ids('chain', input.chain, 64), review,
          schema === null ? null : JSON.stringify(schema),
          boundedInt('maxRounds', input.maxRounds, 2, 1, 20), boundedInt('maxAttempts', input.maxAttempts, 5, 1, 100),
        ],
      )
      .catch(translateDbError);
    const task = toTask(res.rows[0]);
    await this.record(by, [task], () => ({ title: task.title, ...(task.assignee ? { assignee: task.assignee } : {}) }));
    return task;
  }

  async get(teamId: string, id: string): Promise<TeamTask | null> {
    return firstOrNull<TeamTask>(await this.q.query(
      `SELECT ${COLUMNS} FROM team_tasks WHERE team_id = $1 AND id = $2`, [text('teamId', teamId, 128), text('id', id, 128)]));
  }

  async list(teamId: string, filter: TaskFilter = {}): Promise<TeamTask[]> {
    const status = filter.status?.map((s) => oneOf('status', s, TEAM_TASK_STATUSES)) ?? null;
    const res = await this.q.query(
      `SELECT ${COLUMNS} FROM team_tasks
       WHERE team_id = $1 AND ($2::text IS NULL OR run_id = $2) AND ($3::text[] IS NULL OR status = ANY($3::text[]))
         AND ($4::text IS NULL OR assignee = $4) AND ($5::text IS NULL OR seq > $5::int)
       ORDER BY created_at, seq LIMIT $6`,
      [
        text('teamId', teamId, 128), optionalText('runId', filter.runId, 128), status, optionalText('assignee', filter.assignee, 128),
        filter.afterSeq === undefined ? null : String(nonNegativeInt('afterSeq', filter.afterSeq)), pageLimit(filter.limit, 100, 1000),
      ],
    );
    return res.rows.map(toTask);
  }

  async claim(input: { teamId: string; member: string; taskId?: string; leaseMs: number }): Promise<TeamTask | null> {
    const member = text('member', input.member, 128);
    const res = await this.q.query(
      `UPDATE team_tasks t SET status = 'claimed', claimed_by = $2, ${LEASE_SET.replace('$LEASE', '$4')},
         attempts = t.attempts + 1, updated_at = now()
       WHERE (t.tenant_id, t.id) = (
         SELECT c.tenant_id, c.id FROM team_tasks c JOIN team_runs r ON r.tenant_id = c.tenant_id AND r.id = c.run_id
         WHERE c.team_id = $1 AND c.status = 'pending' AND ${RUN_OPEN}
           AND (c.assignee IS NULL OR c.assignee = $2) AND ($3::text IS NULL OR c.id = $3)
           AND NOT EXISTS (
             SELECT 1 FROM team_tasks d
             WHERE d.tenant_id = c.tenant_id AND d.id = ANY(c.blocked_by) AND d.status <> 'done')
         ORDER BY c.created_at, c.seq
         LIMIT 1
         FOR UPDATE OF c SKIP LOCKED)
         AND t.status = 'pending'
       RETURNING ${COLUMNS}`,
      [text('teamId', input.teamId, 128), member, optionalText('taskId', input.taskId, 128), leaseMs(input.leaseMs)],
    );
    const task = firstOrNull<TeamTask>(res);
    if (task !== null) await this.record(`agent:${member}`, [task]);
    return task;
  }

  async start(lease: Lease, ms: number): Promise<TeamTask | null> {
    const res = await this.q.query(
      `UPDATE team_tasks SET status = 'running', lease_expires_at = now() + make_interval(secs => $3::float8 / 1000), updated_at = now()
       WHERE id = $1 AND claim_token = $2 AND status = 'claimed' RETURNING ${COLUMNS}`,
      [text('id', lease.id, 128), text('token', lease.token, 128), leaseMs(ms)],
    );
    const task = firstOrNull<TeamTask>(res);
    if (task !== null) await this.record(`agent:${task.claimedBy ?? '?'}`, [task]);
    return task;
  }

  async heartbeat(leases: readonly Lease[], ms: number): Promise<number> {
    if (leases.length === 0) return 0;
    const res = await this.q.query(
      `UPDATE team_tasks t SET lease_expires_at = now() + make_interval(secs => $3::float8 / 1000)
       FROM unnest($1::text[], $2::text[]) AS l(id, token)
       WHERE t.id = l.id AND t.claim_token = l.token AND t.status IN ('claimed', 'running', 'in_review')`,
      [leases.map((l) => text('id', l.id, 128)), leases.map((l) => text('token', l.token, 128)), leaseMs(ms)],
    );
    return res.rowCount;
  }

  async submit(lease: Lease, result: string, tokens: number, by: string): Promise<TeamTask | null> {
    const res = await this.q.query(
      `UPDATE team_tasks SET result = $3, tokens = tokens + $4, feedback = NULL, ${CLEAR_CLAIM}, updated_at = now(),
         status = CASE WHEN review = 'none' THEN 'done' ELSE 'in_review' END,
         finished_at = CASE WHEN review = 'none' THEN now() ELSE NULL END
       WHERE id = $1 AND claim_token = $2 AND status IN ('claimed', 'running') RETURNING ${COLUMNS}`,
      [text('id', lease.id, 128), text('token', lease.token, 128), typeof result === 'string' ? result.slice(0, 262144) : '', nonNegativeInt('tokens', tokens)],
    );
    const task = firstOrNull<TeamTask>(res);
    if (task !== null) await this.record(by, [task]);
    return task;
  }

  async fail(lease: Lease, reason: string, by: string): Promise<TeamTask | null> {
    const res = await this.q.query(
      `UPDATE team_tasks SET status = 'failed', error = $3, ${CLEAR_CLAIM}, updated_at = now(), finished_at = now()
       WHERE id = $1 AND claim_token = $2 AND status IN ('claimed', 'running') RETURNING ${COLUMNS}`,
      [text('id', lease.id, 128), text('token', lease.token, 128), String(reason).slice(0, 4000) || 'failed'],
    );
    const task = firstOrNull<TeamTask>(res);
    if (task !== null) await this.record(by, [task], () => ({ reason: task.error }));
    return task;
  }

  async release(lease: Lease, reason: string, by: string): Promise<TeamTask | null> {
    const res = await this.q.query(
      `UPDATE team_tasks SET ${CLEAR_CLAIM}, updated_at = now(),
         status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'pending' END,
         error = CASE WHEN attempts >= max_attempts THEN $3 || ' (after ' || attempts || ' attempts)' ELSE $3 END,
         finished_at = CASE WHEN attempts >= max_attempts THEN now() ELSE NULL END
       WHERE id = $1 AND claim_token = $2 AND status IN ('claimed', 'running') RETURNING ${COLUMNS}`,
      [text('id', lease.id, 128), text('token', lease.token, 128), String(reason).slice(0, 4000) || 'attempt failed'],
    );
    const task = firstOrNull<TeamTask>(res);
    if (task !== null) await this.record(by, [task], () => ({ reason }));
    return task;
  }

  async claimReview(input: { teamId: string; reviewer: string; leaseMs: number }): Promise<TeamTask | null> {
    const reviewer = text('reviewer', input.reviewer, 128);
    const res = await this.q.query(
      `UPDATE team_tasks t SET claimed_by = $2, ${LEASE_SET.replace('$LEASE', '$3')}, updated_at = now()
       WHERE (t.tenant_id, t.id) = (
         SELECT c.tenant_id, c.id FROM team_tasks c JOIN team_runs r ON r.tenant_id = c.tenant_id AND r.id = c.run_id
         WHERE c.team_id = $1 AND c.status = 'in_review' AND c.review = 'agent' AND c.claim_token IS NULL AND ${RUN_OPEN}
         ORDER BY c.updated_at, c.seq LIMIT 1 FOR UPDATE OF c SKIP LOCKED)
         AND t.claim_token IS NULL
       RETURNING ${COLUMNS}`,
      [text('teamId', input.teamId, 128), reviewer, leaseMs(input.leaseMs)],
    );
    const task = firstOrNull<TeamTask>(res);
    if (task !== null) await this.audit.append({ actor: `agent:${reviewer}`, action: 'team.task.review_claimed', target: task.id, outcome: 'success', detail: { teamId: task.teamId, runId: task.runId, round: task.round } });
    return task;
  }

  async review(
    teamId: string, id: string, lease: Lease | null, verdict: { reviewer: string; approve: boolean; feedback: string },
  ): Promise<TeamTask | null> {
    const entry = {
      round: 0, reviewer: text('reviewer', verdict.reviewer, 128), verdict: verdict.approve ? 'approve' : 'reject',
      feedback: String(verdict.feedback ?? '').slice(0, 8000), at: new Date().toISOString(),
    };
    const res = await this.q.query(
      `UPDATE team_tasks SET ${CLEAR_CLAIM}, updated_at = now(),
         reviews = reviews || jsonb_build_array(jsonb_set($4::jsonb, '{round}', to_jsonb(round + 1))),
         round = round + 1,
         status = CASE WHEN $5 THEN 'done' WHEN round + 1 >= max_rounds THEN 'failed' ELSE 'pending' END,
         feedback = CASE WHEN $5 THEN NULL ELSE $6 END,
         attempts = CASE WHEN $5 THEN attempts ELSE 0 END,
         error = CASE WHEN NOT $5 AND round + 1 >= max_rounds THEN 'review rejected the result ' || (round + 1) || ' times' ELSE error END,
         result = CASE WHEN $5 OR round + 1 >= max_rounds THEN result ELSE NULL END,
         finished_at = CASE WHEN $5 OR round + 1 >= max_rounds THEN now() ELSE NULL END
       WHERE team_id = $1 AND id = $2 AND status = 'in_review'
         AND (($3::text IS NULL AND claim_token IS NULL) OR claim_token = $3)
       RETURNING ${COLUMNS}`,
      [text('teamId', teamId, 128), text('id', id, 128), lease === null ? null : text('token', lease.token, 128), JSON.stringify(entry), verdict.approve, entry.feedback],
    );
    const task = firstOrNull<TeamTask>(res);
    if (task !== null) await this.record(`agent:${entry.reviewer}`, [task], () => ({ verdict: entry.verdict }));
    return task;
  }

  async cancel(teamId: string, id: string, by: string, reason = 'cancelled by the lead'): Promise<TeamTask | null> {
    const res = await this.q.query(
      `UPDATE team_tasks SET status = 'cancelled', error = $3, ${CLEAR_CLAIM}, updated_at = now(), finished_at = now()
       WHERE team_id = $1 AND id = $2 AND status NOT IN ('done', 'failed', 'cancelled') RETURNING ${COLUMNS}`,
      [text('teamId', teamId, 128), text('id', id, 128), String(reason).slice(0, 4000)],
    );
    const task = firstOrNull<TeamTask>(res);
    if (task !== null) await this.record(by, [task], () => ({ reason }));
    return task;
  }

  async reclaimExpired(by: string, limit = 1000): Promise<TeamTask[]> {
    const res = await this.q.query(
      `UPDATE team_tasks t SET ${CLEAR_CLAIM}, updated_at = now(),
         status = CASE WHEN t.status = 'in_review' THEN 'in_review' WHEN t.attempts >= t.max_attempts THEN 'failed' ELSE 'pending' END,
         error = CASE WHEN t.status <> 'in_review' AND t.attempts >= t.max_attempts
                      THEN 'the lease expired ' || t.attempts || ' times (max attempts)' ELSE t.error END,
         finished_at = CASE WHEN t.status <> 'in_review' AND t.attempts >= t.max_attempts THEN now() ELSE NULL END
       WHERE (t.tenant_id, t.id) IN (
         SELECT c.tenant_id, c.id FROM team_tasks c
         WHERE c.claim_token IS NOT NULL AND c.lease_expires_at < now()
         LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING ${COLUMNS}`,
      [pageLimit(limit, 1000, 10_000)],
    );
    const tasks = res.rows.map(toTask);
    await this.record(by, tasks, () => ({ reason: 'lease expired' }));
    return tasks;
  }

  async cancelBlocked(runId: string, by: string): Promise<TeamTask[]> {
    const all: TeamTask[] = [];
    for (let level = 0; level < MAX_BLOCK_DEPTH; level++) {
      const res = await this.q.query(
        `UPDATE team_tasks t SET status = 'cancelled', error = 'a task it depends on did not finish', ${CLEAR_CLAIM},
           updated_at = now(), finished_at = now()
         WHERE t.run_id = $1 AND t.status = 'pending' AND EXISTS (
           SELECT 1 FROM team_tasks d WHERE d.tenant_id = t.tenant_id AND d.id = ANY(t.blocked_by) AND d.status IN ('failed', 'cancelled'))
         RETURNING ${COLUMNS}`,
        [text('runId', runId, 128)],
      );
      if (res.rows.length === 0) break;
      all.push(...res.rows.map(toTask));
    }
    await this.record(by, all, () => ({ reason: 'dependency did not finish' }));
    return all;
  }

  async undelivered(runId: string, limit = 500): Promise<TeamTask[]> {
    const res = await this.q.query(
      `SELECT ${COLUMNS} FROM team_tasks
       WHERE run_id = $1 AND status IN ('done', 'failed', 'cancelled') AND delivered_at IS NULL ORDER BY seq LIMIT $2`,
      [text('runId', runId, 128), pageLimit(limit, 500, 10_000)],
    );
    return res.rows.map(toTask);
  }

  async markDelivered(taskIds: readonly string[]): Promise<number> {
    if (taskIds.length === 0) return 0;
    const res = await this.q.query(
      'UPDATE team_tasks SET delivered_at = now() WHERE id = ANY($1::text[]) AND delivered_at IS NULL',
      [taskIds.map((id) => text('id', id, 128))],
    );
    return res.rowCount;
  }

  async counts(runId: string): Promise<Record<TeamTaskStatus, number>> {
    const res = await this.q.query<{ status: TeamTaskStatus; n: number }>(
      'SELECT status, count(*)::int AS n FROM team_tasks WHERE run_id = $1 GROUP BY status', [text('runId', runId, 128)]);
    const out = Object.fromEntries(TEAM_TASK_STATUSES.map((s) => [s, 0])) as Record<TeamTaskStatus, number>;
    for (const r of res.rows) out[r.status] = Number(r.n);
    return out;
  }
}
