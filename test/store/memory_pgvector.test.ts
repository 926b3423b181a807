// Vector search through pgvector: on PGlite (the extension ships with
// @electric-sql/pglite-pgvector) the HNSW index is built and used; on the
// PostgreSQL server the store uses pgvector when the server has it and the
// portable scan when it does not, and says which.
import t from 'tap';
import { HashEmbedder, SqlMemoryRepo, Store } from '../../store/index.js';
import { eachBackend, seedTenants } from './backends.js';

await eachBackend(async (t, { kind, store }) => {
  await seedTenants(store, 'acme', 'globex');
  const available = (await store.db.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")).rows.length > 0;

  t.test('vector search is pgvector with HNSW where the database has it, portable where not', async (t) => {
    if (kind === 'pglite') t.equal(store.vectorSearch, 'pgvector-hnsw', 'PGlite always has pgvector');
    else t.equal(store.vectorSearch, available ? 'pgvector-hnsw' : 'portable');
  });

  t.test('preparing again changes nothing (every start calls it)', async (t) => {
    const before = await store.db.query("SELECT indexname FROM pg_indexes WHERE tablename = 'memory' AND indexname LIKE 'memory_hnsw_%'");
    t.equal(await store.prepareVectors(), store.vectorSearch);
    const after = await store.db.query("SELECT indexname FROM pg_indexes WHERE tablename = 'memory' AND indexname LIKE 'memory_hnsw_%'");
    t.same(after.rows, before.rows);
  });

  if (store.vectorSearch !== 'pgvector-hnsw') return;

  t.test('a start that finds the index gone makes it again (the catalog shortcut sees what is missing)', async (t) => {
    const idx = "SELECT indexname FROM pg_indexes WHERE tablename = 'memory' AND indexname LIKE 'memory_hnsw_%'";
    const [{ indexname }] = (await store.db.query<{ indexname: string }>(idx)).rows;
    await store.db.exec(`DROP INDEX ${indexname}`);
    t.same((await store.db.query(idx)).rows, [], 'dropped');
    t.equal(await store.prepareVectors(), 'pgvector-hnsw');
    t.same((await store.db.query(idx)).rows, [{ indexname }], 'the same index is back');
  });

  const topics = ['deploy', 'budget', 'kubernetes', 'invoice', 'holiday', 'printer', 'coffee', 'database'];
  await store.withTenant('acme', async (s) => {
    for (let i = 0; i < 400; i++) await s.memory.save({ content: `note ${i} about ${topics[i % topics.length]} number ${i * 7}`, namespace: 'agent:a' });
  });
  await store.db.exec('ANALYZE memory');

  t.test('the memory table has the generated vec column and one HNSW index for this embedder', async (t) => {
    const idx = await store.db.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE tablename = 'memory' AND indexname LIKE 'memory_hnsw_%'");
    t.equal(idx.rows.length, 1);
    t.match(idx.rows[0].indexdef, /USING hnsw .*vector_cosine_ops.*WHERE \(embedder = 'hash:fnv1a:256'::text\)/);
    const filled = await store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM memory WHERE vec IS NULL');
    t.equal(filled.rows[0].n, 0, 'every row has its pgvector copy');
  });

  t.test('search through the index finds a misspelt topic by vector alone', async (t) => {
    const hits = await store.withTenant('acme', (s) => s.memory.search('kubrnetes', { namespaces: ['agent:a'], limit: 5 }));
    t.equal(hits.length, 5);
    for (const h of hits) {
      t.match(h.content, /kubernetes/);
      t.equal(h.textRank, null);
    }
  });

  t.test('row-level security still applies behind the index: another tenant sees none of it', async (t) => {
    const hits = await store.withTenant('globex', (s) => s.memory.search('kubernetes', { namespaces: ['agent:a'] }));
    t.same(hits, []);
  });

  t.test('a second embedder gets its own HNSW index, and the planner answers nearest-neighbour queries with it', async (t) => {
    // 3000 vectors of a 32-d space, written before its index exists (as after a model change),
    // so the index is built in bulk; at this size the planner prefers the index to a sorted scan.
    await store.withTenant('acme', (s) => s.q.query(
      `INSERT INTO memory (namespace, content, embedding, embedder)
       SELECT 'agent:a', 'filler ' || g, (SELECT array_agg((random() - 0.5)::real) FROM generate_series(1, 32) WHERE g > 0), 'hash:fnv1a:32'
       FROM generate_series(1, 3000) g`,
    ));
    const other = new Store(store.db, new HashEmbedder(32));
    t.equal(await other.prepareVectors(), 'pgvector-hnsw');
    const idx = await store.db.query("SELECT indexname FROM pg_indexes WHERE tablename = 'memory' AND indexname LIKE 'memory_hnsw_%'");
    t.equal(idx.rows.length, 2);
    await store.db.exec('ANALYZE memory');
    const [v] = await new HashEmbedder(32).embed(['kubernetes deploy']);
    const plan = await other.withTenant('acme', async (s) => {
      const res = await s.q.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${SqlMemoryRepo.pgvectorSql(32)}`, ['hash:fnv1a:32', ['agent:a'], Array.from(v), 50]);
      return res.rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    t.match(plan, /Index Scan using memory_hnsw_[0-9a-f]+ on memory/);
    t.match(plan, /Order By: \(\(vec\)::vector\(32\) <=>/);
    t.notMatch(plan, /Seq Scan on memory/);
    const hits = await other.withTenant('acme', (s) => s.memory.search('filler', { namespaces: ['agent:a'], limit: 50 }));
    t.ok(hits.every((h) => h.embedder === 'hash:fnv1a:32'), 'only vectors of its own space come back from the vector side');
  });
});
t.pass('suite loaded');
