import pg from 'pg';
import type { Db, QueryResult, Queryable, Row } from './db.js';

export interface PostgresOptions {
  databaseUrl: string;
  /** Schema placed first on search_path for every connection (tests use a private one). */
  schema?: string;
  /** Pool size; keep it small, PostgreSQL connections are expensive. */
  max?: number;
  /** Create `schema` if missing (default true; false for a login role without CREATE). */
  createSchema?: boolean;
  /** Server-side limit on any one statement (default 30 s); migrations lift it for themselves. */
  statementTimeoutMs?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function wrap(client: pg.PoolClient): Queryable {
  return {
    async query<R extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const res = await client.query<R>(sql, [...params]);
      return { rows: res.rows, rowCount: res.rowCount ?? res.rows.length };
    },
    async exec(sql: string): Promise<void> {
      await client.query(sql);
    },
  };
}

/** A real PostgreSQL server through a `pg` pool. */
export class PostgresDb implements Db {
  readonly kind = 'postgres' as const;

  private constructor(private readonly pool: pg.Pool) {}

  static async open(opts: PostgresOptions): Promise<PostgresDb> {
    if (opts.schema !== undefined && !SCHEMA_NAME.test(opts.schema)) {
      throw new Error(`invalid schema name: ${opts.schema}`);
    }
    const config: pg.PoolConfig = {
      connectionString: opts.databaseUrl,
      max: opts.max ?? 10,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      statement_timeout: opts.statementTimeoutMs ?? 30_000,
    };
    if (opts.schema !== undefined) config.options = `-c search_path=${opts.schema}`;
    if (opts.schema !== undefined && opts.createSchema !== false) {
      // The schema has to exist before anything resolves names in it.
      const admin = new pg.Client({ connectionString: opts.databaseUrl });
      await admin.connect();
      try {
        await admin.query(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}`);
      } finally {
        await admin.end();
      }
    }
    const pool = new pg.Pool(config);
    // An idle client losing its server connection must not crash the process.
    pool.on('error', () => undefined);
    return new PostgresDb(pool);
  }

  async query<R extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    const res = await this.pool.query<R>(sql, [...params]);
    return { rows: res.rows, rowCount: res.rowCount ?? res.rows.length };
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(wrap(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw err;
    } finally {
      // A connection whose rollback failed is in an unknown state: discard it.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
