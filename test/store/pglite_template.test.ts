import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { migrate, migrations, PgliteDb } from '../../store/index.js';
import { ensureTemplate, unpackTemplate } from '../../store/pglite_template.js';
import { HashEmbedder } from '../../store/memory/hash_embedder.js';

/** A new data dir, filled from the template by PgliteDb.open; removed after the test. */
async function openedFromTemplate(t: Test): Promise<{ dir: string; db: PgliteDb }> {
  await ensureTemplate();
  const dir = mkdtempSync(join(tmpdir(), 'troupe-template-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = await PgliteDb.open(dir);
  t.teardown(() => db.close());
  return { dir, db };
}

t.test('a fresh data dir starts from the build\'s template: every migration is already applied', async (t) => {
  const { dir, db } = await openedFromTemplate(t);
  t.ok(existsSync(join(dir, 'PG_VERSION')), 'the cluster files are in the data dir');
  t.same((await migrate(db)).applied, [], 'nothing left to migrate');
  const versions = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
  t.same(versions.rows.map((r) => Number(r.version)), migrations.map((m) => m.version).sort((a, b) => a - b));
  await db.exec("INSERT INTO tenants (id, name) VALUES ('t1', 'T1')");
  await db.close();
  const again = await PgliteDb.open(dir);
  t.teardown(() => again.close());
  t.equal((await again.query<{ n: number }>('SELECT count(*)::int AS n FROM tenants')).rows[0].n, 1, 'reopened as an existing data dir, data kept');
});

t.test('a fresh data dir from the template has pgvector ready for the default embedder', async (t) => {
  const { db } = await openedFromTemplate(t);
  // Read before the store's own start-up work (prepareVectors) could have made any of it.
  const ext = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'vector'");
  t.equal(ext.rows[0].n, 1, 'the vector extension is installed');
  const col = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'memory'::regclass AND attname = 'vec' AND NOT attisdropped");
  t.equal(col.rows[0].n, 1, 'memory has its generated vec column');
  const idx = await db.query<{ def: string }>("SELECT indexdef AS def FROM pg_indexes WHERE tablename = 'memory' AND indexname LIKE 'memory_hnsw_%'");
  t.equal(idx.rows.length, 1, 'one HNSW index');
  t.match(idx.rows[0].def, new RegExp(`embedder = '${new HashEmbedder().id}'`), 'for the default embedder');
});

t.test('the template unpacks with the empty directories PostgreSQL needs', async (t) => {
  await ensureTemplate();
  const dir = mkdtempSync(join(tmpdir(), 'troupe-template-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.equal(unpackTemplate(dir), true);
  t.ok(existsSync(join(dir, 'pg_twophase')), 'empty directories PostgreSQL needs are there too');
  t.ok(existsSync(join(dir, 'base')));
});

t.test('PGlite runs with small shared buffers (memory)', async (t) => {
  const db = await PgliteDb.open();
  t.teardown(() => db.close());
  const r = await db.query<{ shared_buffers: string }>('SHOW shared_buffers');
  t.equal(r.rows[0].shared_buffers, '8MB');
});
