import { createHash } from 'node:crypto';
import type { Db } from './db.js';
import { StoreError } from './errors.js';
import { migrations as allMigrations, type Migration } from './migrations/index.js';

/**
 * One fixed advisory-lock key for the whole database: two gateway processes starting
 * together queue behind each other here instead of racing on CREATE TABLE.
 */
export const MIGRATION_LOCK_KEY = '7305418612095437101';

export interface MigrateResult {
  /** Versions applied by this call (empty when the schema was already current). */
  applied: number[];
  /** Highest version present after the call. */
  current: number;
}

export function migrationChecksum(m: Migration): string {
  return createHash('sha256').update(m.sql).digest('hex');
}

/**
 * Applies pending migrations as the connecting (owner) role, all in one transaction
 * under a transaction-scoped advisory lock, so a crash half-way leaves nothing behind
 * and a concurrent caller waits, then finds everything applied.
 */
export async function migrate(db: Db, list: readonly Migration[] = allMigrations): Promise<MigrateResult> {
  const ordered = [...list].sort((a, b) => a.version - b.version);
  for (let i = 1; i < ordered.length; i++) {
    if (ordered[i].version === ordered[i - 1].version) {
      throw new StoreError('INTERNAL', `duplicate migration version ${ordered[i].version}`);
    }
  }
  return db.transaction(async (q) => {
    // Waiting behind another migrator and long DDL are both expected here.
    await q.query('SET LOCAL statement_timeout = 0');
    await q.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    await q.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      checksum   text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = await q.query<{ version: number; checksum: string }>(
      'SELECT version, checksum FROM schema_migrations',
    );
    const known = new Map(done.rows.map((r) => [Number(r.version), r.checksum]));
    const applied: number[] = [];
    for (const m of ordered) {
      const sum = migrationChecksum(m);
      const previous = known.get(m.version);
      if (previous !== undefined) {
        if (previous !== sum) {
          throw new StoreError('INTERNAL', `migration ${m.version} (${m.name}) changed after it was applied`);
        }
        continue;
      }
      await q.exec(m.sql);
      await q.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        sum,
      ]);
      applied.push(m.version);
    }
    const current = Math.max(0, ...known.keys(), ...applied);
    return { applied, current };
  });
}
