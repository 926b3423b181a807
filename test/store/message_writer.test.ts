import { eachBackend, seedTenants } from './backends.js';

await eachBackend(async (t, { store }) => {
  await seedTenants(store, 'acme', 'globex');
  const sessions = {
    acme: await store.withTenant('acme', (s) => s.sessions.open({ key: 'wb', agentId: 'a' })),
    globex: await store.withTenant('globex', (s) => s.sessions.open({ key: 'wb', agentId: 'a' })),
  };
  const count = async (tenant: 'acme' | 'globex') =>
    (await store.withTenant(tenant, (s) => s.messages.list(sessions[tenant].id, { limit: 1000 }))).items;

  t.test('on graceful close every queued message of every tenant is persisted, in order', async (t) => {
    const w = store.messageWriter({ batchSize: 8, flushIntervalMs: 60_000 });
    for (let i = 0; i < 30; i++) {
      const tenant = i % 3 === 0 ? 'globex' : 'acme';
      t.ok(w.append({ tenantId: tenant, sessionId: sessions[tenant].id, role: 'user', content: `m${i}` }));
    }
    await w.close();
    const acme = await count('acme');
    const globex = await count('globex');
    t.equal(acme.length + globex.length, 30);
    t.same(globex.map((m) => m.content), ['m0', 'm3', 'm6', 'm9', 'm12', 'm15', 'm18', 'm21', 'm24', 'm27']);
    t.ok(acme.every((m) => m.tenantId === 'acme'));
    t.match(w.queue.stats(), { written: 30, failed: 0, pending: 0 });
  });

  t.test('a hard crash loses exactly the messages not yet flushed', async (t) => {
    const before = (await count('acme')).length;
    const w = store.messageWriter({ batchSize: 1000, flushIntervalMs: 60_000 });
    for (let i = 0; i < 5; i++) w.append({ tenantId: 'acme', sessionId: sessions.acme.id, role: 'user', content: `kept${i}` });
    await w.flush();
    for (let i = 0; i < 4; i++) w.append({ tenantId: 'acme', sessionId: sessions.acme.id, role: 'user', content: `lost${i}` });
    // The process "dies" here: no flush. What the database holds is what was flushed.
    const lost = w.queue.stats().pending;
    const after = await count('acme');
    t.equal(after.length - before, 5);
    t.equal(lost, 4);
    t.notOk(after.some((m) => m.content.startsWith('lost')));
  });

  t.test('a turn whose reply is in the same batch is one row; one split across batches is two, read back alike', async (t) => {
    const s = await store.withTenant('acme', (sc) => sc.sessions.open({ key: 'wb-turns', agentId: 'a' }));
    const w = store.messageWriter({ batchSize: 1000, flushIntervalMs: 60_000 });
    const msg = (role: 'user' | 'assistant', content: string, runId: string) =>
      ({ tenantId: 'acme', sessionId: s.id, role, content, meta: { runId } });
    w.append(msg('user', 'q1', 'r1'));
    w.append(msg('assistant', 'a1', 'r1'));
    w.append(msg('user', 'q2', 'r2'));
    await w.flush();
    w.append(msg('assistant', 'a2', 'r2'));
    await w.close();
    const rows = await store.withTenant('acme', async (sc) =>
      (await sc.q.query<{ content: string; reply: string | null }>('SELECT content, reply FROM messages WHERE session_id = $1 ORDER BY id', [s.id])).rows);
    t.same(rows.map((r) => [r.content, r.reply]), [['q1', 'a1'], ['q2', null], ['a2', null]]);
    const read = (await store.withTenant('acme', (sc) => sc.messages.list(s.id))).items;
    t.same(read.map((m) => [m.role, m.content, m.meta]), [
      ['user', 'q1', { runId: 'r1' }], ['assistant', 'a1', { runId: 'r1' }], ['user', 'q2', { runId: 'r2' }], ['assistant', 'a2', { runId: 'r2' }],
    ]);
    t.match(w.queue.stats(), { written: 4, failed: 0 });
  });

  t.test('a malformed message fails its caller at once, not a later batch', async (t) => {
    const w = store.messageWriter();
    t.throws(() => w.append({ tenantId: 'acme', sessionId: sessions.acme.id, role: 'wizard' as 'user', content: 'x' }), {
      code: 'INVALID_REQUEST',
    });
    t.throws(() => w.append({ tenantId: '', sessionId: sessions.acme.id, role: 'user', content: 'x' }), {
      code: 'INVALID_REQUEST',
    });
    await w.close();
  });

  t.test('a message forged into another tenant session is not written', async (t) => {
    const w = store.messageWriter({ maxRetries: 0 });
    // acme names globex's session id: RLS and the (tenant, session) key refuse it.
    w.append({ tenantId: 'acme', sessionId: sessions.globex.id, role: 'user', content: 'forged' });
    await t.rejects(w.close(), { code: 'UNAVAILABLE' });
    t.notOk((await count('globex')).some((m) => m.content === 'forged'));
  });
});
