import type { Queryable } from '../db.js';
import { translateDbError } from '../errors.js';
import { camelRow, firstOrNull } from '../rows.js';
import { optionalText, pageLimit, text } from '../validate.js';

export interface User {
  tenantId: string;
  id: string;
  name: string;
  email: string | null;
  createdAt: Date;
}

export interface UsersRepo {
  create(input: { id?: string; name: string; email?: string }): Promise<User>;
  get(id: string): Promise<User | null>;
  list(opts?: { limit?: number }): Promise<User[]>;
}

const COLUMNS = 'tenant_id, id, name, email, created_at';

export class SqlUsersRepo implements UsersRepo {
  constructor(private readonly q: Queryable) {}

  async create(input: { id?: string; name: string; email?: string }): Promise<User> {
    const id = optionalText('id', input.id);
    const res = await this.q
      .query(
        `INSERT INTO users (id, name, email) VALUES (COALESCE($1, gen_random_uuid()::text), $2, $3)
         RETURNING ${COLUMNS}`,
        [id, text('name', input.name), optionalText('email', input.email, 320)],
      )
      .catch(translateDbError);
    return camelRow<User>(res.rows[0]);
  }

  async get(id: string): Promise<User | null> {
    const res = await this.q.query(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [text('id', id)]);
    return firstOrNull<User>(res);
  }

  async list(opts: { limit?: number } = {}): Promise<User[]> {
    const res = await this.q.query(`SELECT ${COLUMNS} FROM users ORDER BY created_at, id LIMIT $1`, [
      pageLimit(opts.limit),
    ]);
    return res.rows.map((r) => camelRow<User>(r));
  }
}
