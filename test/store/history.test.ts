import { eachBackend, seedTenants } from './backends.js';

await eachBackend(async (t, { store }) => {
  await seedTenants(store, 'acme');
  const session = await store.withTenant('acme', (s) => s.sessions.open({ key: 'ws:1', agentId: 'helper', userId: 'u1' }));

  t.test('opening a session key twice returns the same session', async (t) => {
    const again = await store.withTenant('acme', (s) => s.sessions.open({ key: 'ws:1', agentId: 'helper' }));
    t.equal(again.id, session.id);
    t.equal((await store.withTenant('acme', (s) => s.sessions.getByKey('ws:1')))?.id, session.id);
  });

  t.test('message history round-trips in order with roles, content and meta', async (t) => {
    const sent = [
      { sessionId: session.id, role: 'system' as const, content: 'be brief' },
      { sessionId: session.id, role: 'user' as const, content: 'héllo 👋' },
      { sessionId: session.id, role: 'assistant' as const, content: 'hi', meta: { model: 'sim', tokens: 2 } },
      { sessionId: session.id, role: 'tool' as const, content: '{"ok":true}', meta: { tool: 'clock' } },
    ];
    t.equal(await store.withTenant('acme', (s) => s.messages.append(sent)), 4);
    const page = await store.withTenant('acme', (s) => s.messages.list(session.id));
    t.same(
      page.items.map((m) => ({ sessionId: m.sessionId, role: m.role, content: m.content, ...(m.meta ? { meta: m.meta } : {}) })),
      sent,
    );
    t.equal(page.nextCursor, null);
  });

  t.test('history pages with a cursor and ends with a null cursor', async (t) => {
    const s2 = await store.withTenant('acme', (s) => s.sessions.open({ key: 'ws:paged', agentId: 'helper' }));
    const sent = Array.from({ length: 7 }, (_, i) => ({ sessionId: s2.id, role: 'user' as const, content: `m${i}` }));
    await store.withTenant('acme', (s) => s.messages.append(sent));
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await store.withTenant('acme', (s) => s.messages.list(s2.id, { limit: 3, after: cursor }));
      seen.push(...page.items.map((m) => m.content));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    t.same(seen, sent.map((m) => m.content));
  });

  t.test('a turn is one row: a user message and the reply after it with the same meta, read back as two messages', async (t) => {
    const s3 = await store.withTenant('acme', (s) => s.sessions.open({ key: 'ws:turns', agentId: 'helper' }));
    const other = await store.withTenant('acme', (s) => s.sessions.open({ key: 'ws:turns-other', agentId: 'helper' }));
    const run = (id: string) => ({ runId: id });
    const sent = [
      { sessionId: s3.id, role: 'user' as const, content: 'q1', meta: run('r1') },
      { sessionId: other.id, role: 'user' as const, content: 'elsewhere', meta: run('r9') },
      { sessionId: s3.id, role: 'assistant' as const, content: 'a1', meta: run('r1') },
      // Two runs in flight: q3's reply comes before q2's, so neither pairs (order is kept as sent).
      { sessionId: s3.id, role: 'user' as const, content: 'q2', meta: run('r2') },
      { sessionId: s3.id, role: 'user' as const, content: 'q3', meta: run('r3') },
      { sessionId: s3.id, role: 'assistant' as const, content: 'a3', meta: run('r3') },
      { sessionId: s3.id, role: 'assistant' as const, content: 'a2', meta: run('r2') },
      // A reply with other meta (a handoff note has none) stays a row of its own.
      { sessionId: s3.id, role: 'user' as const, content: 'q4', meta: run('r4') },
      { sessionId: s3.id, role: 'assistant' as const, content: '[handoff a → b] why' },
    ];
    t.equal(await store.withTenant('acme', (s) => s.messages.append(sent)), sent.length);
    const rows = await store.withTenant('acme', async (s) =>
      (await s.q.query<{ content: string; reply: string | null }>('SELECT content, reply FROM messages WHERE session_id = $1 ORDER BY id', [s3.id])).rows);
    t.same(rows.map((r) => [r.content, r.reply]), [['q1', 'a1'], ['q2', null], ['q3', 'a3'], ['a2', null], ['q4', null], ['[handoff a → b] why', null]]);
    const page = await store.withTenant('acme', (s) => s.messages.list(s3.id));
    const mine = sent.filter((m) => m.sessionId === s3.id);
    t.same(page.items.map((m) => ({ sessionId: m.sessionId, role: m.role, content: m.content, ...(m.meta ? { meta: m.meta } : {}) })), mine);
    t.equal(page.items[0].id, page.items[1].id, 'a turn\'s two messages share their row\'s id');

    // Paging never splits a turn's row; a page holds at most `limit` messages otherwise.
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const p = await store.withTenant('acme', (s) => s.messages.list(s3.id, { limit: 2, after: cursor }));
      t.ok(p.items.length >= 1 && p.items.length <= 2, `page of ${p.items.length}`);
      seen.push(...p.items.map((m) => m.content));
      if (p.nextCursor === null) break;
      cursor = p.nextCursor;
    }
    t.same(seen, mine.map((m) => m.content));
    const one = await store.withTenant('acme', (s) => s.messages.list(s3.id, { limit: 1 }));
    t.same(one.items.map((m) => m.content), ['q1', 'a1'], 'a limit of 1 still returns a whole turn');
  });

  t.test('a bad cursor or role is refused with INVALID_REQUEST', async (t) => {
    await t.rejects(store.withTenant('acme', (s) => s.messages.list(session.id, { after: 'abc' })), { code: 'INVALID_REQUEST' });
    await t.rejects(
      store.withTenant('acme', (s) => s.messages.append([{ sessionId: session.id, role: 'root' as 'user', content: 'x' }])),
      { code: 'INVALID_REQUEST' },
    );
  });

  t.test('a message for an unknown session is refused', async (t) => {
    await t.rejects(
      store.withTenant('acme', (s) => s.messages.append([{ sessionId: 'nope', role: 'user', content: 'x' }])),
      { code: 'INVALID_REQUEST' },
    );
  });

  t.test('a run accumulates usage and cost and finishes once', async (t) => {
    const run = await store.withTenant('acme', async (s) => {
      const r = await s.runs.create({ sessionId: session.id, agentId: 'helper' });
      await s.runs.setStatus(r.id, 'running');
      await s.runs.addUsage(r.id, { inputTokens: 10, outputTokens: 5, costUsd: 0.0015 });
      await s.runs.addUsage(r.id, { inputTokens: 2, outputTokens: 7, costUsd: 0.0005 });
      return s.runs.setStatus(r.id, 'succeeded');
    });
    t.equal(run.status, 'succeeded');
    t.same([run.inputTokens, run.outputTokens], [12, 12]);
    t.ok(Math.abs(run.costUsd - 0.002) < 1e-9);
    t.ok(run.finishedAt instanceof Date);
    await t.rejects(store.withTenant('acme', (s) => s.runs.setStatus(run.id, 'failed', 'late')), {
      code: 'INVALID_REQUEST',
      message: /already finished/,
    });
  });

  t.test('negative usage is refused with INVALID_REQUEST', async (t) => {
    const run = await store.withTenant('acme', (s) => s.runs.create({ sessionId: session.id, agentId: 'helper' }));
    await t.rejects(
      store.withTenant('acme', (s) => s.runs.addUsage(run.id, { inputTokens: -1, outputTokens: 0, costUsd: 0 })),
      { code: 'INVALID_REQUEST' },
    );
  });

  t.test('tool calls are recorded against their run with outcome and duration', async (t) => {
    const calls = await store.withTenant('acme', async (s) => {
      const run = await s.runs.create({ sessionId: session.id, agentId: 'helper' });
      const a = await s.toolCalls.start({ runId: run.id, name: 'clock', args: {} });
      const b = await s.toolCalls.start({ runId: run.id, name: 'fetch', args: { url: 'http://127.0.0.1/' } });
      await s.toolCalls.finish(a.id, { status: 'succeeded', result: ['12:00'], durationMs: 3 });
      await s.toolCalls.finish(b.id, { status: 'failed', error: 'SSRF blocked', durationMs: 1 });
      return s.toolCalls.listByRun(run.id);
    });
    t.same(
      calls.map((c) => [c.name, c.status, c.result, c.error, c.durationMs]).sort(),
      [
        ['clock', 'succeeded', ['12:00'], null, 3],
        ['fetch', 'failed', null, 'SSRF blocked', 1],
      ],
    );
  });

  t.test('a tool call finishes only once', async (t) => {
    const call = await store.withTenant('acme', async (s) => {
      const run = await s.runs.create({ sessionId: session.id, agentId: 'helper' });
      const c = await s.toolCalls.start({ runId: run.id, name: 'clock', args: {} });
      await s.toolCalls.finish(c.id, { status: 'succeeded', result: 1, durationMs: 1 });
      return c;
    });
    await t.rejects(
      store.withTenant('acme', (s) => s.toolCalls.finish(call.id, { status: 'failed', error: 'late', durationMs: 2 })),
      { code: 'INVALID_REQUEST', message: /already finished/ },
    );
    await t.rejects(
      store.withTenant('acme', (s) => s.toolCalls.finish('missing', { status: 'failed', durationMs: 2 })),
      { code: 'NOT_FOUND' },
    );
  });

  t.test('agent config is stored as JSON and replaced by name', async (t) => {
    const a = await store.withTenant('acme', async (s) => {
      await s.agents.upsert({ name: 'helper', config: { model: 'sim', tools: ['clock'] } });
      return s.agents.upsert({ name: 'helper', config: { model: 'gpt', tools: [] } });
    });
    const got = await store.withTenant('acme', (s) => s.agents.getByName('helper'));
    t.equal(got?.id, a.id);
    t.same(got?.config, { model: 'gpt', tools: [] });
  });

  t.test('secrets keep ciphertext and key version, and an update replaces both', async (t) => {
    const got = await store.withTenant('acme', async (s) => {
      await s.secrets.put('openai.key', { ciphertext: 'v1:abc', keyVersion: 1 });
      await s.secrets.put('openai.key', { ciphertext: 'v2:def', keyVersion: 2 });
      return { one: await s.secrets.get('openai.key'), names: await s.secrets.listNames() };
    });
    t.same([got.one?.ciphertext, got.one?.keyVersion], ['v2:def', 2]);
    t.same(got.names, ['openai.key']);
  });

  t.test('users are created and read back within their tenant', async (t) => {
    const u = await store.withTenant('acme', (s) => s.users.create({ name: 'Alice', email: 'alice@example.test' }));
    const got = await store.withTenant('acme', (s) => s.users.get(u.id));
    t.same([got?.name, got?.email, got?.tenantId], ['Alice', 'alice@example.test', 'acme']);
  });
});
