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
  t.match(hits.content, /^\[m1\] The user prefers tea over coffee$/);
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
  const scope = { tenant: 't', sessionId: 's' };
  for (const word of ['one', 'two', 'three']) await store.save(scope, `note ${word}`, []);
  t.same((await store.search(scope, 'note', 10)).map((h) => h.text), ['note three', 'note two']);
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
