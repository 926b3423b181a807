// How memory search reaches its rows, on both backends. Under row-level security
// the GIN index on `tsv` cannot serve the app role (`@@` is not leakproof), so the
// full-text side goes through troupe_memory_text_search (migration 007), which
// filters by the current tenant itself; the portable vector side walks the
// recency index per namespace instead of sorting every memory of the namespaces.
// 2000 filler notes make a rare word selective enough that an index pays.
import t from 'tap';
import { HashEmbedder, SqlMemoryRepo } from '../../store/index.js';
import { eachBackend, seedTenants } from './backends.js';

const TEXT_SQL = `SELECT m.id FROM memory m, websearch_to_tsquery('english', $2) query
  WHERE m.tenant_id = troupe_current_tenant() AND m.namespace = ANY($1::text[]) AND m.tsv @@ query
  ORDER BY ts_rank_cd(m.tsv, query) DESC, m.created_at DESC LIMIT 50`;

await eachBackend(async (t, { store }) => {
  await seedTenants(store, 'acme', 'globex');
  for (const content of ['invoice for the printer', 'the printer is jammed', 'coffee budget']) {
    await store.rememberFor('acme', { content, namespace: 'agent:a' });
  }
  await store.rememberFor('globex', { content: 'globex printer lease', namespace: 'agent:a' });
  await store.withTenant('acme', (s) => s.q.query(
    "INSERT INTO memory (namespace, content, embedding, embedder) SELECT 'agent:a', 'filler note ' || g, '{1}', 'x' FROM generate_series(1, 2000) g",
  ));
  await store.db.exec('ANALYZE memory');

  const plan = async (tenant: string, sql: string, params: unknown[], asOwner = false): Promise<string> => {
    const run = async (q: { query: (s: string, p?: unknown[]) => Promise<{ rows: Record<string, unknown>[] }> }): Promise<string> => {
      const res = await q.query(`EXPLAIN ${sql}`, params);
      return res.rows.map((r) => String(Object.values(r)[0])).join('\n');
    };
    if (!asOwner) return store.withTenant(tenant, (s) => run(s.q));
    return store.db.transaction(async (q) => {
      await q.query("SELECT set_config('troupe.tenant_id', $1, true)", [tenant]);
      return run(q);
    });
  };

  t.test('as the app role the full-text match cannot use the GIN index (why the function exists)', async (t) => {
    const p = await plan('acme', TEXT_SQL, [['agent:a'], 'printer']);
    t.notMatch(p, /memory_fts/);
    t.match(p, /Filter: .*tsv @@/);
  });

  t.test('as the owner, where troupe_memory_text_search runs, the same query uses the GIN index', async (t) => {
    const p = await plan('acme', TEXT_SQL, [['agent:a'], 'printer'], true);
    t.match(p, /Bitmap Index Scan on memory_fts/);
    t.notMatch(p, /Seq Scan on memory/);
  });

  t.test('troupe_memory_text_search finds the current tenant\'s matches only, and nothing with no tenant set', async (t) => {
    const ids = async (tenant: string): Promise<string[]> => store.withTenant(tenant, async (s) => {
      const found = await s.q.query<{ id: string }>('SELECT id FROM troupe_memory_text_search($1::text[], $2, 50)', [['agent:a'], 'printer']);
      const rows = await s.q.query<{ content: string }>('SELECT content FROM memory WHERE id = ANY($1::text[]) ORDER BY content', [found.rows.map((r) => r.id)]);
      return rows.rows.map((r) => r.content);
    });
    t.same(await ids('acme'), ['invoice for the printer', 'the printer is jammed']);
    t.same(await ids('globex'), ['globex printer lease']);
    t.same(await ids('nobody'), []);
    const bare = await store.db.transaction(async (q) => {
      await q.query("SELECT set_config('troupe.tenant_id', '', true)");
      return q.query('SELECT count(*)::int AS n FROM troupe_memory_text_search(ARRAY[\'agent:a\'], \'printer\', 50)');
    });
    t.equal((bare.rows[0] as { n: number }).n, 0, 'an empty tenant setting finds nothing');
  });

  t.test('only the app role may call it (not PUBLIC)', async (t) => {
    const acl = await store.db.query<{ ok: boolean; pub: boolean }>(
      `SELECT has_function_privilege('troupe_app', 'troupe_memory_text_search(text[], text, integer)', 'EXECUTE') AS ok,
              coalesce(array_to_string(proacl, ',') ~ '(^|,)=X', false) AS pub
       FROM pg_proc WHERE oid = 'troupe_memory_text_search(text[], text, integer)'::regprocedure`,
    );
    t.same(acl.rows, [{ ok: true, pub: false }]);
  });

  t.test('the portable vector side walks memory_recent per namespace and sorts no table', async (t) => {
    const [v] = await new HashEmbedder().embed(['printer']);
    const p = await plan('acme', SqlMemoryRepo.portableSql, [new HashEmbedder().id, ['agent:a', 'session:s'], Array.from(v), 2000, 50]);
    t.match(p, /Function Scan on unnest ns/);
    t.match(p, /Index Scan using memory_recent on memory/);
    t.match(p, /Index Cond: .*namespace = ns\.name/);
    t.notMatch(p, /Seq Scan on memory/);
  });
});
t.pass('suite loaded');
