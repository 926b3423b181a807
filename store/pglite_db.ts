import { PGlite } from '@electric-sql/pglite';
import type { Db, QueryResult, Queryable, Row } from './db.js';

interface PgliteLike {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[]; affectedRows?: number; rowCount?: number }>;
  exec(sql: string): Promise<unknown>;
}

function wrap(target: PgliteLike): Queryable {
  return {
    async query<R extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const res = await target.query<R>(sql, [...params]);
      return { rows: res.rows, rowCount: res.rowCount ?? res.affectedRows ?? res.rows.length };
    },
    async exec(sql: string): Promise<void> {
      await target.exec(sql);
    },
  };
}

/**
 * Embedded PostgreSQL (WASM). One instance is one single-connection server: PGlite
 * queues statements itself and a transaction holds it exclusively, so there is no pool.
 * Start-up costs about two seconds of CPU, which is why callers should open it once.
 */
export class PgliteDb implements Db {
  readonly kind = 'pglite' as const;
  private readonly q: Queryable;

  private constructor(private readonly pg: PGlite) {
    this.q = wrap(pg);
  }

  /**
   * `dataDir` undefined means in-memory (tests). Most of the start-up time is initdb;
   * `fromDump` (a tarball from dump()) skips it, which is how tests start quickly.
   */
  static async open(dataDir?: string, fromDump?: Blob): Promise<PgliteDb> {
    const pg = await PGlite.create({
      ...(dataDir === undefined ? {} : { dataDir }),
      ...(fromDump === undefined ? {} : { loadDataDir: fromDump }),
    });
    return new PgliteDb(pg);
  }

  /** The whole data directory as a gzipped tarball. */
  dump(): Promise<Blob> {
    return this.pg.dumpDataDir('gzip');
  }

  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return this.q.query<R>(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.q.exec(sql);
  }

  transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    return this.pg.transaction((tx) => fn(wrap(tx)));
  }

  async close(): Promise<void> {
    if (!this.pg.closed) await this.pg.close();
  }
}
