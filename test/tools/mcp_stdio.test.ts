import t from 'tap';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { registerBuiltins } from '../../tools/builtin/index.js';
import { McpManager } from '../../tools/mcp/manager.js';
import { ToolRegistry } from '../../tools/registry.js';
import { context, tempDir } from './helpers.js';
import { everything, filesystem, memory } from './mcp_servers.js';

t.test('three real MCP servers over stdio', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'hello.txt'), 'hello from disk');
  process.env.TROUPE_TEST_PARENT_SECRET = 'sk-parent-only';
  t.teardown(() => delete process.env.TROUPE_TEST_PARENT_SECRET);
  const registry = new ToolRegistry();
  registerBuiltins(registry);
  const manager = new McpManager(registry, { healthIntervalMs: 0 });
  t.teardown(() => manager.close());
  const started = await manager.connect({
    mcpServers: { everything: { ...everything(), env: { TROUPE_VISIBLE: 'configured' } }, fs: filesystem(dir), memory: memory(path.join(dir, 'memory.jsonl')) },
  });
  const ctx = context(dir);

  t.test('every server connects and lists its tools', async (t) => {
    t.same(started.map((s) => [s.name, s.ok]), [['everything', true], ['fs', true], ['memory', true]]);
    for (const s of started) t.ok(s.tools > 0, `${s.name} offers tools`);
    t.same(manager.health().map((h) => h.state), ['ready', 'ready', 'ready']);
  });

  t.test('MCP tools are named mcp_<server>_<tool> and grouped as mcp', async (t) => {
    const names = registry.list().map((tool) => tool.name);
    t.ok(names.includes('mcp_everything_echo'));
    t.ok(names.includes('mcp_fs_read_text_file'));
    t.ok(names.includes('mcp_memory_create_entities'));
    const mcp = registry.list().filter((tool) => tool.name.startsWith('mcp_'));
    t.ok(mcp.every((tool) => tool.group === 'mcp'));
    t.equal(mcp.length, started.reduce((n, s) => n + s.tools, 0), 'one registry entry per remote tool');
  });

  t.test('with the built-ins, an agent sees at least 40 tools', async (t) => {
    const specs = registry.toSpecs();
    t.ok(specs.length >= 40, `saw ${specs.length} tools`);
    t.ok(specs.every((s) => /^[A-Za-z0-9_-]{1,64}$/.test(s.name)), 'every name is one providers accept');
  });

  t.test('server-everything: echo answers, wrapped as untrusted content', async (t) => {
    const result = await registry.invoke('mcp_everything_echo', { message: 'ping-42' }, ctx);
    t.match(result.content, /<untrusted-content id="[0-9a-f]+" source="tool:mcp_everything_echo">\nEcho: ping-42\n<\/untrusted-content/);
    t.notOk(result.isError);
  });

  t.test('a stdio server sees only the safe base environment and its configured variables', async (t) => {
    const env = await registry.invoke('mcp_everything_get-env', {}, ctx);
    t.match(env.content, /"TROUPE_VISIBLE": "configured"/);
    t.notMatch(env.content, /sk-parent-only|TROUPE_TEST_PARENT_SECRET/, 'the gateway environment does not leak');
    t.equal(registry.get('mcp_everything_get-env')?.readOnly, true, 'readOnlyHint makes the tool read-only');
  });

  t.test('server-filesystem: reads a file in its allowed folder and refuses one outside', async (t) => {
    const ok = await registry.invoke('mcp_fs_read_text_file', { path: path.join(dir, 'hello.txt') }, ctx);
    t.match(ok.content, /hello from disk/);
    const denied = await registry.invoke('mcp_fs_read_text_file', { path: '/etc/hostname' }, ctx);
    t.equal(denied.isError, true, 'the server reports access denied as a tool error');
  });

  t.test('server-memory: an entity created is found in the graph', async (t) => {
    await registry.invoke('mcp_memory_create_entities', { entities: [{ name: 'Ada', entityType: 'person', observations: ['writes code'] }] }, ctx);
    const graph = await registry.invoke('mcp_memory_read_graph', {}, ctx);
    t.match(graph.content, /Ada/);
    t.match(graph.content, /writes code/);
  });

  t.test('arguments are validated against the server schema before the call', async (t) => {
    const err = await registry.invoke('mcp_everything_echo', {}, ctx).then(() => null, (e: unknown) => e);
    t.match(err, { code: 'INVALID_REQUEST', path: '$.message' });
  });

  t.test('a call past its deadline fails with TIMEOUT and the server keeps serving', async (t) => {
    const slow = registry.invoke('mcp_everything_trigger-long-running-operation', { duration: 10, steps: 5 }, { ...ctx, timeoutMs: 300 });
    t.match(await slow.then(() => null, (e: unknown) => e), { code: 'TIMEOUT' });
    t.match((await registry.invoke('mcp_everything_echo', { message: 'after' }, ctx)).content, /Echo: after/);
  });

  t.test('removing a server removes its tools', async (t) => {
    t.ok(await manager.remove('memory'));
    t.notOk(registry.list().some((tool) => tool.name.startsWith('mcp_memory_')));
  });
});
