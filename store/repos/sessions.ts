import type { Queryable } from '../db.js';
import { translateDbError } from '../errors.js';
import { camelRow, firstOrNull } from '../rows.js';
import { notFound, optionalText, pageLimit, text } from '../validate.js';

export interface Session {
  tenantId: string;
  id: string;
  /** The caller-facing session key (e.g. `telegram:1234` or a WS sessionKey). */
  key: string;
  agentId: string;
  userId: string | null;
  title: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewSession {
  key: string;
  agentId: string;
  userId?: string;
  title?: string;
}

export interface SessionsRepo {
  /** Returns the session with this key, creating it first if needed. */
  open(input: NewSession): Promise<Session>;
  get(id: string): Promise<Session | null>;
  getByKey(key: string): Promise<Session | null>;
  /** Most recently active first. */
  list(opts?: { limit?: number }): Promise<Session[]>;
  touch(id: string): Promise<void>;
  remove(id: string): Promise<void>;
}

const COLUMNS = 'tenant_id, id, key, agent_id, user_id, title, created_at, updated_at';

const toSession = (r: Record<string, unknown>): Session => camelRow<Session>(r);

export class SqlSessionsRepo implements SessionsRepo {
  constructor(private readonly q: Queryable) {}

  async open(input: NewSession): Promise<Session> {
    // DO UPDATE (a no-op touch) rather than DO NOTHING so RETURNING always yields the row.
    const res = await this.q
      .query(
        `INSERT INTO sessions (key, agent_id, user_id, title) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, key) DO UPDATE SET updated_at = now()
         RETURNING ${COLUMNS}`,
        [
          text('key', input.key),
          text('agentId', input.agentId),
          optionalText('userId', input.userId),
          optionalText('title', input.title, 500),
        ],
      )
      .catch(translateDbError);
    return toSession(res.rows[0]);
  }

  async get(id: string): Promise<Session | null> {
    const res = await this.q.query(`SELECT ${COLUMNS} FROM sessions WHERE id = $1`, [text('id', id)]);
    return firstOrNull<Session>(res);
  }

  async getByKey(key: string): Promise<Session | null> {
    const res = await this.q.query(`SELECT ${COLUMNS} FROM sessions WHERE key = $1`, [text('key', key)]);
    return firstOrNull<Session>(res);
  }

  async list(opts: { limit?: number } = {}): Promise<Session[]> {
    const res = await this.q.query(`SELECT ${COLUMNS} FROM sessions ORDER BY updated_at DESC, id LIMIT $1`, [
      pageLimit(opts.limit),
    ]);
    return res.rows.map(toSession);
  }

  async touch(id: string): Promise<void> {
    const res = await this.q.query('UPDATE sessions SET updated_at = now() WHERE id = $1', [text('id', id)]);
    if (res.rowCount === 0) throw notFound('session', id);
  }

  async remove(id: string): Promise<void> {
    const res = await this.q.query('DELETE FROM sessions WHERE id = $1', [text('id', id)]);
    if (res.rowCount === 0) throw notFound('session', id);
  }
}
