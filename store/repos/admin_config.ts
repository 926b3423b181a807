import type { Queryable } from '../db.js';
import { translateDbError } from '../errors.js';
import { camelRow, firstOrNull } from '../rows.js';
import { jsonObject, notFound, pageLimit, text } from '../validate.js';

/** A tenant's provider: its spec without credentials, and where its sealed API key is. */
export interface StoredProvider {
  tenantId: string;
  id: string;
  spec: Record<string, unknown>;
  secretName: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface StoredMcpServer {
  tenantId: string;
  id: string;
  config: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

export interface ProvidersRepo {
  /** Creates or replaces; returns the previous row too, for the audit diff. */
  put(id: string, spec: Record<string, unknown>, secretName: string | null): Promise<{ row: StoredProvider; before: StoredProvider | null }>;
  get(id: string): Promise<StoredProvider | null>;
  list(opts?: { limit?: number }): Promise<StoredProvider[]>;
  remove(id: string): Promise<StoredProvider>;
  /**
   * Takes the tenant's lock on creating rows here (held until the transaction ends), then counts its rows: a limit
   * checked on this count holds, because every other creation, on any connection of any gateway sharing the
   * database, waits for the lock and counts only after this transaction has committed its row.
   */
  countForCreate(): Promise<number>;
}

export interface McpServersRepo {
  /** Creates or replaces; returns the previous row too, for the audit diff. */
  put(id: string, config: Record<string, unknown>): Promise<{ row: StoredMcpServer; before: StoredMcpServer | null }>;
  get(id: string): Promise<StoredMcpServer | null>;
  list(opts?: { limit?: number }): Promise<StoredMcpServer[]>;
  remove(id: string): Promise<StoredMcpServer>;
  /** Locks the tenant's creation of servers, then counts them (as ProvidersRepo.countForCreate). */
  countForCreate(): Promise<number>;
  /** Marks the tenant as given the config file's servers; false when it already was (seed nothing then). */
  markSeeded(): Promise<boolean>;
}

/** One repo shape for both tables: an id, one jsonb column, timestamps. */
class JsonRowRepo<T> {
  constructor(
    private readonly q: Queryable,
    private readonly tenantId: string,
    private readonly table: 'providers' | 'mcp_servers',
    private readonly columns: string,
    private readonly what: string,
  ) {}

  async get(id: string): Promise<T | null> {
    return firstOrNull<T>(await this.q.query(`SELECT ${this.columns} FROM ${this.table} WHERE id = $1`, [text('id', id)]));
  }

  async list(opts: { limit?: number } = {}): Promise<T[]> {
    const res = await this.q.query(`SELECT ${this.columns} FROM ${this.table} ORDER BY id LIMIT $1`, [pageLimit(opts.limit)]);
    return res.rows.map((r) => camelRow<T>(r));
  }

  async upsert(id: string, values: unknown[], setSql: string, insertCols: string): Promise<{ row: T; before: T | null }> {
    const before = await this.get(id);
    const res = await this.q
      .query(
        `INSERT INTO ${this.table} (id, ${insertCols}) VALUES ($1, ${values.map((_, i) => `$${i + 2}`).join(', ')})
         ON CONFLICT (tenant_id, id) DO UPDATE SET ${setSql}, updated_at = now()
         RETURNING ${this.columns}`,
        [text('id', id), ...values],
      )
      .catch(translateDbError);
    return { row: camelRow<T>(res.rows[0]), before };
  }

  async remove(id: string): Promise<T> {
    const res = await this.q.query(`DELETE FROM ${this.table} WHERE id = $1 RETURNING ${this.columns}`, [text('id', id)]);
    if (res.rowCount === 0) throw notFound(this.what, id);
    return camelRow<T>(res.rows[0]);
  }

  async countForCreate(): Promise<number> {
    // Two keys, as the audit chain's lock (repos/audit.ts): what is locked, then the tenant.
    await this.q.query(`SELECT pg_advisory_xact_lock(hashtext('troupe.${this.table}'), hashtext($1))`, [this.tenantId]);
    // A statement of its own, so under READ COMMITTED its snapshot sees what the lock's last holder committed.
    const res = await this.q.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${this.table}`);
    return Number(res.rows[0].n);
  }
}

export class SqlProvidersRepo implements ProvidersRepo {
  readonly #rows: JsonRowRepo<StoredProvider>;

  constructor(q: Queryable, tenantId: string) {
    this.#rows = new JsonRowRepo(q, tenantId, 'providers', 'tenant_id, id, spec, secret_name, created_at, updated_at', 'provider');
  }

  put(id: string, spec: Record<string, unknown>, secretName: string | null) {
    return this.#rows.upsert(id, [JSON.stringify(jsonObject('spec', spec)), secretName], 'spec = EXCLUDED.spec, secret_name = EXCLUDED.secret_name', 'spec, secret_name');
  }

  get(id: string) {
    return this.#rows.get(id);
  }

  list(opts?: { limit?: number }) {
    return this.#rows.list(opts);
  }

  remove(id: string) {
    return this.#rows.remove(id);
  }

  countForCreate() {
    return this.#rows.countForCreate();
  }
}

export class SqlMcpServersRepo implements McpServersRepo {
  readonly #rows: JsonRowRepo<StoredMcpServer>;

  constructor(private readonly q: Queryable, tenantId: string) {
    this.#rows = new JsonRowRepo(q, tenantId, 'mcp_servers', 'tenant_id, id, config, created_at, updated_at', 'MCP server');
  }

  put(id: string, config: Record<string, unknown>) {
    return this.#rows.upsert(id, [JSON.stringify(jsonObject('config', config))], 'config = EXCLUDED.config', 'config');
  }

  get(id: string) {
    return this.#rows.get(id);
  }

  list(opts?: { limit?: number }) {
    return this.#rows.list(opts);
  }

  remove(id: string) {
    return this.#rows.remove(id);
  }

  countForCreate() {
    return this.#rows.countForCreate();
  }

  async markSeeded(): Promise<boolean> {
    const marked = await this.q.query("INSERT INTO config_seeds (kind) VALUES ('mcp_servers') ON CONFLICT DO NOTHING RETURNING kind");
    return marked.rowCount !== 0;
  }
}
