import t from 'tap';
import { builtinTools, InMemoryMemoryStore } from '../../tools/builtin/index.js';
import { memoryTools } from '../../tools/builtin/memory.js';
import { datetimeTool } from '../../tools/builtin/datetime.js';
import { ToolRegistry } from '../../tools/registry.js';
import { context, toolError } from './helpers.js';

t.test('memory_search finds what memory_save stored, best match first', async (t) => {
  const registry = new ToolRegistry();
  for (const tool of memoryTools(new InMemoryMemoryStore())) registry.register(tool);
  const ctx = context('/tmp/troupe-unused');
  await registry.invoke('memory_save', { text: 'The user prefers tea over coffee', tags: ['drinks'] }, ctx);
  await registry.invoke('memory_save', { text: 'Project deadline is Friday' }, ctx);
  const hits = await registry.invoke('memory_search', { query: 'tea drinks' }, ctx);
  t.match(hits.content, /^\[m1\] \(session\) The user prefers tea over coffee$/);
  t.match((await registry.invoke('memory_search', { query: 'quantum' }, ctx)).content, 'no matching memories');
});

t.test('memories are kept per tenant', async (t) => {
  const store = new InMemoryMemoryStore();
  const registry = new ToolRegistry();
  for (const tool of memoryTools(store)) registry.register(tool);
  await registry.invoke('memory_save', { text: 'alpha secret' }, context('/tmp/x', { tenant: 'a' }));
  t.equal((await registry.invoke('memory_search', { query: 'alpha' }, context('/tmp/x', { tenant: 'b' }))).content, 'no matching memories');
});

t.test('the in-memory store keeps at most maxPerTenant notes, dropping the oldest', async (t) => {
  const store = new InMemoryMemoryStore({ maxPerTenant: 2 });
  for (const word of ['one', 'two', 'three']) await store.save('t', 'default', `note ${word}`, []);
  t.same((await store.search('t', ['default'], 'note', 10)).map((h) => h.text), ['note three', 'note two']);
});

t.test('scopes: a session note stays in its session, an agent note in its agent, a tenant note is shared', async (t) => {
  const registry = new ToolRegistry();
  for (const tool of memoryTools(new InMemoryMemoryStore())) registry.register(tool);
  const a1 = context('/tmp/x', { sessionId: 's1', agentId: 'alpha' });
  const a2 = context('/tmp/x', { sessionId: 's2', agentId: 'alpha' });
  const b2 = context('/tmp/x', { sessionId: 's2', agentId: 'beta' });
  await registry.invoke('memory_save', { text: 'session fact kiwi', scope: 'session' }, a1);
  await registry.invoke('memory_save', { text: 'agent fact kiwi' }, a1);
  await registry.invoke('memory_save', { text: 'tenant fact kiwi', scope: 'tenant' }, a1);
  const seen = async (ctx: typeof a1): Promise<string[]> =>
    ((await registry.invoke('memory_search', { query: 'kiwi', limit: 10 }, ctx)).data as { text: string }[]).map((h) => h.text).sort();
  t.same(await seen(a1), ['agent fact kiwi', 'session fact kiwi', 'tenant fact kiwi']);
  t.same(await seen(a2), ['agent fact kiwi', 'tenant fact kiwi'], 'another session of the agent');
  t.same(await seen(b2), ['tenant fact kiwi'], 'another agent');
  const narrowed = await registry.invoke('memory_search', { query: 'kiwi', scope: 'session' }, a1);
  t.match(narrowed.content, /^\[m\d+\] \(session\) session fact kiwi$/);
});

t.test('team scope: shared by the members of one team, refused outside any team', async (t) => {
  const registry = new ToolRegistry();
  for (const tool of memoryTools(new InMemoryMemoryStore())) registry.register(tool);
  const lead = context('/tmp/x', { sessionId: 's1', agentId: 'lead', teamId: 'red' });
  const member = context('/tmp/x', { sessionId: 's2', agentId: 'coder', teamId: 'red' });
  const stranger = context('/tmp/x', { sessionId: 's3', agentId: 'coder', teamId: 'blue' });
  await registry.invoke('memory_save', { text: 'the release is on Monday', scope: 'team' }, lead);
  t.match((await registry.invoke('memory_search', { query: 'release', scope: 'team' }, member)).content, /\(team\) the release is on Monday/);
  t.equal((await registry.invoke('memory_search', { query: 'release' }, stranger)).content, 'no matching memories');
  const loner = context('/tmp/x', { sessionId: 's4', agentId: 'solo' });
  t.match(await toolError(registry.invoke('memory_save', { text: 'x', scope: 'team' }, loner)), { code: 'INVALID_REQUEST', path: '$.scope' });
});

t.test('datetime reports the given instant in UTC and in a named zone; an unknown zone is INVALID_REQUEST', async (t) => {
  const registry = new ToolRegistry();
  registry.register(datetimeTool(() => new Date('2026-01-02T03:04:05Z')));
  const ctx = context('/tmp/x');
  t.match(await registry.invoke('datetime', {}, ctx), { data: { iso: '2026-01-02T03:04:05.000Z', timezone: 'UTC' } });
  t.match(await registry.invoke('datetime', { timezone: 'Asia/Tokyo' }, ctx), { content: /12:04:05/ });
  t.match(await toolError(registry.invoke('datetime', { timezone: 'Mars/Olympus' }, ctx)), { code: 'INVALID_REQUEST', path: '$.timezone' });
});

t.test('the built-in set has exec only when enabled', async (t) => {
  const names = builtinTools().map((tool) => tool.name);
  t.same(names, ['datetime', 'web_fetch', 'read_file', 'write_file', 'list_files', 'memory_save', 'memory_search']);
  t.ok(builtinTools({ exec: { enabled: true } }).some((tool) => tool.name === 'exec'));
});
