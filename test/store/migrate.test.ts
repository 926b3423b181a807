import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, migrations, openStore, type Migration } from '../../store/index.js';
import { migrationChecksum } from '../../store/migrate.js';
import { eachBackend, testSchema } from './backends.js';

await eachBackend(async (t, { kind, store, openAnother }) => {
  t.test('migrating an up-to-date database applies nothing', async (t) => {
    const again = await store.migrate();
    t.same(again.applied, []);
    t.equal(again.current, migrations[migrations.length - 1].version);
  });

  t.test('each applied version is recorded once with its checksum', async (t) => {
    const rows = await store.db.query<{ version: number; checksum: string }>(
      'SELECT version, checksum FROM schema_migrations ORDER BY version',
    );
    t.same(
      rows.rows.map((r) => ({ version: Number(r.version), checksum: r.checksum })),
      migrations.map((m) => ({ version: m.version, checksum: migrationChecksum(m) })),
    );
  });

  t.test('a migration edited after it was applied is refused', async (t) => {
    const edited: Migration[] = migrations.map((m) => ({ ...m, sql: `${m.sql}\n-- edited` }));
    await t.rejects(migrate(store.db, edited), { code: 'INTERNAL', message: /changed after it was applied/ });
  });

  t.test('a new migration is applied after the existing ones', async (t) => {
    const extra: Migration = { version: 9001, name: 'probe', sql: 'CREATE TABLE migration_probe (x int);' };
    const first = await migrate(store.db, [...migrations, extra]);
    t.same(first.applied, [9001]);
    const second = await migrate(store.db, [...migrations, extra]);
    t.same(second.applied, []);
    await store.db.exec('DROP TABLE migration_probe; DELETE FROM schema_migrations WHERE version = 9001;');
  });

  if (kind === 'postgres') {
    t.test('two processes migrating a fresh database at once apply each version once', async (t) => {
      const schema = testSchema();
      const a = await openAnother({ schema, migrate: false });
      const b = await openAnother({ schema, migrate: false });
      const [ra, rb] = await Promise.all([a.migrate(), b.migrate()]);
      t.same([...ra.applied, ...rb.applied].sort((x, y) => x - y), migrations.map((m) => m.version));
      t.ok(ra.applied.length === 0 || rb.applied.length === 0, 'one of them found the work done');
      const count = await a.db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
      t.equal(count.rows[0].n, migrations.length);
    });
  }

  if (kind === 'pglite') {
    t.test('a PGlite data folder keeps its data and migrations across restarts', async (t) => {
      const dir = await mkdtemp(join(tmpdir(), 'troupe-store-'));
      t.teardown(() => rm(dir, { recursive: true, force: true }));
      const first = await openStore({ dataDir: dir });
      await first.tenants.create({ id: 'durable', name: 'Durable' });
      await first.close();
      const second = await openStore({ dataDir: dir });
      t.teardown(() => second.close());
      t.equal((await second.tenants.get('durable'))?.name, 'Durable');
      t.same((await second.migrate()).applied, []);
    });
  }
});
