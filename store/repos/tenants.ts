import type { Queryable } from '../db.js';
import { translateDbError } from '../errors.js';
import { camelRow, firstOrNull } from '../rows.js';
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

const toTenant = (r: Record<string, unknown>): Tenant => camelRow<Tenant>(r);

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
    return firstOrNull<Tenant>(res);
  }

  async list(opts: { limit?: number } = {}): Promise<Tenant[]> {
    const res = await this.q.query('SELECT id, name, created_at FROM tenants ORDER BY id LIMIT $1', [
      pageLimit(opts.limit),
    ]);
    return res.rows.map(toTenant);
  }
}
