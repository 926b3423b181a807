import { eachBackend, seedTenants } from './backends.js';

await eachBackend(async (t, { store }) => {
  await seedTenants(store, 'acme', 'globex');
  const docs = [
    'Quarterly budget review for marketing',
    'Kubernetes upgrade notes for the staging cluster',
    'Alice prefers green tea in the morning',
    'The production cluster runs Kubernetes on AWS',
  ];
  // Separate units of work so each memory gets its own created_at (recency matters).
  for (const content of docs) await store.withTenant('acme', (s) => s.memory.save({ content, metadata: { src: 'test' } }));
  await store.withTenant('acme', (s) => s.memory.save({ content: 'Kubernetes secrets live elsewhere', namespace: 'ops' }));

  t.test('a memory matching on words and on vector ranks first', async (t) => {
    const hits = await store.withTenant('acme', (s) => s.memory.search('green tea in the morning'));
    t.equal(hits[0].content, docs[2]);
    t.same([hits[0].textRank, hits[0].vectorRank], [1, 1]);
    t.same(hits[0].metadata, { src: 'test' });
  });

  t.test('results are ordered by fused score and keep only matching memories on top', async (t) => {
    const hits = await store.withTenant('acme', (s) => s.memory.search('kubernetes cluster', { limit: 4 }));
    t.same(hits.slice(0, 2).map((h) => h.content).sort(), [docs[1], docs[3]].sort());
    for (let i = 1; i < hits.length; i++) t.ok(hits[i - 1].score >= hits[i].score);
    t.ok(hits.slice(0, 2).every((h) => h.textRank !== null && h.vectorRank !== null));
  });

  t.test('a misspelt query still finds memories through the vector side', async (t) => {
    const hits = await store.withTenant('acme', (s) => s.memory.search('kubrnetes'));
    t.ok(hits.length > 0);
    t.match(hits[0].content, /Kubernetes/);
    t.equal(hits[0].textRank, null);
    t.not(hits[0].vectorRank, null);
  });

  t.test('portable search: the vector side only scores the scanLimit most recent memories', { skip: store.vectorSearch !== 'portable' && 'pgvector searches every memory' }, async (t) => {
    const hits = await store.withTenant('acme', (s) => s.memory.search('kubrnetes upgrde stagng', { scanLimit: 1 }));
    t.ok(hits.every((h) => h.content === docs[3]), 'only the newest memory was a vector candidate');
  });

  t.test('namespaces are searched separately', async (t) => {
    const hits = await store.withTenant('acme', (s) => s.memory.search('kubernetes secrets', { namespaces: ['ops'] }));
    t.same(hits.map((h) => h.content), ['Kubernetes secrets live elsewhere']);
  });

  t.test('several namespaces are searched together', async (t) => {
    const hits = await store.withTenant('acme', (s) => s.memory.search('kubernetes', { namespaces: ['ops', 'default'], limit: 10 }));
    t.same(new Set(hits.map((h) => h.namespace)), new Set(['ops', 'default']));
  });

  t.test('vectors of another embedder are never compared with the current one', async (t) => {
    // A row written by some other model: same dimension, foreign space.
    await store.withTenant('acme', (s) => s.q.query(
      "INSERT INTO memory (namespace, content, embedding, embedder) VALUES ('alien', 'xylophone', $1::real[], 'other:model:256')",
      [Array.from({ length: 256 }, () => 1 / 16)],
    ));
    const hits = await store.withTenant('acme', (s) => s.memory.search('xylophne', { namespaces: ['alien'] }));
    t.same(hits, [], 'a misspelling finds it through no vector: the only vector is of another space');
    const byText = await store.withTenant('acme', (s) => s.memory.search('xylophone', { namespaces: ['alien'] }));
    t.same(byText.map((h) => [h.content, h.vectorRank]), [['xylophone', null]], 'full text still finds it');
  });

  t.test('a saved memory records its embedder', async (t) => {
    const item = await store.withTenant('acme', (s) => s.memory.save({ content: 'labelled' }));
    t.equal(item.embedder, 'hash:fnv1a:256');
  });

  t.test('too many namespaces or an embedding of the wrong length is INVALID_REQUEST', async (t) => {
    const many = Array.from({ length: 17 }, (_, i) => `n${i}`);
    await t.rejects(store.withTenant('acme', (s) => s.memory.search('x', { namespaces: many })), { code: 'INVALID_REQUEST' });
    await t.rejects(store.withTenant('acme', (s) => s.memory.save({ content: 'x', embedding: new Float32Array(3) })), { code: 'INVALID_REQUEST' });
  });

  t.test('another tenant finds none of these memories', async (t) => {
    const hits = await store.withTenant('globex', (s) => s.memory.search('kubernetes cluster'));
    t.same(hits, []);
  });

  t.test('an empty query or out-of-range scanLimit is refused with INVALID_REQUEST', async (t) => {
    await t.rejects(store.withTenant('acme', (s) => s.memory.search('')), { code: 'INVALID_REQUEST' });
    await t.rejects(store.withTenant('acme', (s) => s.memory.search('x', { scanLimit: 0 })), { code: 'INVALID_REQUEST' });
  });

  t.test('a removed memory is no longer found', async (t) => {
    const item = await store.withTenant('acme', (s) => s.memory.save({ content: 'ephemeral zebra fact' }));
    await store.withTenant('acme', (s) => s.memory.remove(item.id));
    const hits = await store.withTenant('acme', (s) => s.memory.search('zebra'));
    t.notOk(hits.some((h) => h.id === item.id));
  });
});
