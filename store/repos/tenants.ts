import type { Queryable } from '../db.js';
import { translateDbError } from '../errors.js';
import { pageLimit, tenantId, text } from '../validate.js';

export interface Tenant {
  id: string;
  name: string;
  createdAt: Date;
}

/** Owner-side (admin) operations: creating tenants is not something a tenant can do. */
export interface TenantsRepo {
  create(input: { id: string; name: string }): Promise<Tenant>;
  get(id: string): Promise<Tenant | null>;
  list(opts?: { limit?: number }): Promise<Tenant[]>;
}

function toTenant(r: Record<string, unknown>): Tenant {
  return { id: r.id as string, name: r.name as string, createdAt: r.created_at as Date };
}

export class SqlTenantsRepo implements TenantsRepo {
  constructor(private readonly q: Queryable) {}

  async create(input: { id: string; name: string }): Promise<Tenant> {
    const res = await this.q
      .query('INSERT INTO tenants (id, name) VALUES ($1, $2) RETURNING id, name, created_at', [
        tenantId(input.id),
        text('name', input.name),
      ])
      .catch(translateDbError);
    return toTenant(res.rows[0]);
  }

  async get(id: string): Promise<Tenant | null> {
    const res = await this.q.query('SELECT id, name, created_at FROM tenants WHERE id = $1', [tenantId(id)]);
    return res.rows.length === 0 ? null : toTenant(res.rows[0]);
  }

  async list(opts: { limit?: number } = {}): Promise<Tenant[]> {
    const res = await this.q.query('SELECT id, name, created_at FROM tenants ORDER BY id LIMIT $1', [
      pageLimit(opts.limit),
    ]);
    return res.rows.map(toTenant);
  }
}
