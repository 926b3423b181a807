// Runs one suite on embedded PGlite (always) and on the real PostgreSQL server, each
// opened once per test file: PGlite costs seconds to start, and on PostgreSQL each
// file gets a private schema so parallel files never collide.
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import t from 'tap';
import { migrate, migrations, openStore, PgliteDb, Store, type StoreOptions } from '../../store/index.js';
import { migrationChecksum } from '../../store/migrate.js';
import { postgresUrl, requireService } from '../helpers/services.js';

export type TapTest = Parameters<Parameters<typeof t.test>[0]>[0];

export interface Backend {
  kind: 'pglite' | 'postgres';
  store: Store;
  /** Opens another store on the same database/schema (PostgreSQL only: a second pool). */
  openAnother(opts?: Partial<StoreOptions>): Promise<Store>;
}

export function testSchema(): string {
  return `troupe_test_${randomBytes(6).toString('hex')}`;
}

/**
 * Drops a test's private PostgreSQL schema when the test ends, over a connection of its own
 * (the gateway under test has closed its pool by then).
 */
export function dropSchemaOnTeardown(t: TapTest, url: string, schema: string): void {
  t.teardown(async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await c.end();
    }
  });
}

export async function eachBackend(
  fn: (t: TapTest, backend: Backend) => Promise<void> | void,
  opts: Partial<StoreOptions> = {},
): Promise<void> {
  const url = await postgresUrl();
  const pgSkip = requireService('PostgreSQL', url);

  t.test('on PGlite', async (t) => {
    const store = await openPgliteFromTemplate(opts);
    t.teardown(() => store.close());
    await fn(t, {
      kind: 'pglite',
      store,
      openAnother: () => Promise.reject(new Error('PGlite is one process-local instance')),
    });
  });

  t.test('on PostgreSQL', { skip: pgSkip }, async (t) => {
    const schema = testSchema();
    const base = { databaseUrl: url ?? '', schema, poolSize: 4 };
    const store = await openStore({ ...opts, ...base });
    const others: { store: Store; schema: string }[] = [];
    t.teardown(async () => {
      for (const o of others) {
        if (o.schema !== schema) await o.store.db.exec(`DROP SCHEMA IF EXISTS ${o.schema} CASCADE`);
        await o.store.close();
      }
      await store.db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await store.close();
    });
    await fn(t, {
      kind: 'postgres',
      store,
      openAnother: async (more = {}) => {
        const s = await openStore({ ...opts, ...base, ...more });
        others.push({ store: s, schema: more.schema ?? schema });
        return s;
      },
    });
  });
}

/** Creates the tenants a suite needs (as the owner). */
export async function seedTenants(store: Store, ...ids: string[]): Promise<void> {
  for (const id of ids) await store.tenants.create({ id, name: `Tenant ${id}` });
}

/**
 * Nearly all of PGlite's start-up is initdb. The first test process to get here
 * builds a migrated database and leaves its dump in the temp folder (keyed by the
 * PGlite version and the migrations' checksums, renamed into place atomically);
 * later processes restore that dump instead, about five times faster.
 */
async function openPgliteFromTemplate(opts: Partial<StoreOptions>): Promise<Store> {
  const pkg = join(fileURLToPath(import.meta.resolve('@electric-sql/pglite')), '..', '..', 'package.json');
  const version = (JSON.parse(await readFile(pkg, 'utf8')) as { version: string }).version;
  const key = createHash('sha256')
    .update([version, ...migrations.map(migrationChecksum)].join(','))
    .digest('hex')
    .slice(0, 16);
  const file = join(tmpdir(), `troupe-pglite-template-${key}.tar.gz`);
  const cached = await readFile(file).catch(() => null);
  if (cached !== null) {
    const db = await PgliteDb.open(undefined, new Blob([cached]));
    const store = new Store(db, opts.embedder);
    await store.migrate();
    await store.prepareVectors();
    return store;
  }
  const db = await PgliteDb.open();
  await migrate(db);
  const dump = Buffer.from(await (await db.dump()).arrayBuffer());
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, dump);
  await rename(tmp, file);
  const store = new Store(db, opts.embedder);
  await store.prepareVectors();
  return store;
}
