import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { unpackTemplate } from './pglite_template.js';
import { vector } from '@electric-sql/pglite-pgvector';
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
 * PostgreSQL's defaults size shared buffers for a server (128 MB), and in WASM
 * they are linear memory the process touches and keeps: a gateway that opened
 * PGlite idled at ~290 MB instead of ~165 MB with 8 MB (bench/RESULTS.md,
 * "PGlite start and memory"). An embedded, single-connection database does not
 * need more; `wal_buffers` follows shared_buffers.
 */
export const PGLITE_SETTINGS: readonly string[] = ['-c', 'shared_buffers=8MB', '-c', 'work_mem=2MB', '-c', 'maintenance_work_mem=8MB'];

export interface PgliteOpenOptions {
  /** A fresh data dir starts from the build's template (pglite_template.ts); default true. */
  template?: boolean;
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
   * `fromDump` (a tarball from dump()) skips it, which is how tests start quickly, and
   * a fresh data dir gets the build's template the same way.
   */
  static async open(dataDir?: string, fromDump?: Blob, options: PgliteOpenOptions = {}): Promise<PgliteDb> {
    if (dataDir !== undefined && fromDump === undefined && options.template !== false && !existsSync(join(dataDir, 'PG_VERSION'))) {
      unpackTemplate(dataDir);
    }
    // pgvector ships as a loadable extension; Store.prepareVectors() creates it in the database.
    const pg = await PGlite.create({
      extensions: { vector },
      startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS],
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
