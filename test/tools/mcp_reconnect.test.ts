import t from 'tap';
import { fileURLToPath } from 'node:url';
import { McpManager } from '../../tools/mcp/manager.js';
import type { McpState } from '../../tools/mcp/connection.js';
import { ToolRegistry } from '../../tools/registry.js';
import { context } from './helpers.js';
import { everything } from './mcp_servers.js';

const ctx = context('/tmp/troupe-unused');

/** Resolves when the connection next enters `wanted` (a state change, not the current state). */
function nextState(manager: McpManager, name: string, wanted: McpState, timeoutMs = 20_000): Promise<void> {
  const connection = manager.get(name);
  if (connection === undefined) return Promise.reject(new Error(`no connection ${name}`));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`${name} stayed ${connection.state}, wanted ${wanted}`));
    }, timeoutMs);
    const off = connection.onState((state) => {
      if (state !== wanted) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

t.test('a stdio server killed from outside is restarted with backoff and its tools work again', async (t) => {
  const registry = new ToolRegistry();
  const manager = new McpManager(registry, { healthIntervalMs: 0, backoff: { baseMs: 100, maxMs: 1_000 } });
  t.teardown(() => manager.close());
  await manager.connect({ mcpServers: { ev: everything() } });
  const connection = manager.get('ev');
  const firstPid = connection?.pid;
  t.ok(typeof firstPid === 'number');
  const states: McpState[] = [];
  connection?.onState((s) => states.push(s));
  const back = nextState(manager, 'ev', 'ready');
  process.kill(firstPid as number, 'SIGKILL');
  await back;
  t.same(states, ['reconnecting', 'ready'], 'lost, then back');
  t.not(connection?.pid, firstPid, 'a new server process');
  t.match(connection?.health(), { state: 'ready', reconnects: 1, attempts: 0, lastError: 'connection closed' });
  t.match((await registry.invoke('mcp_ev_echo', { message: 'back' }, ctx)).content, /Echo: back/);
});

t.test('a server that keeps failing is retried with backoff, then marked failed after maxReconnectAttempts', async (t) => {
  const registry = new ToolRegistry();
  const manager = new McpManager(registry, { healthIntervalMs: 0, maxReconnectAttempts: 3, backoff: { baseMs: 40, maxMs: 1_000 } });
  t.teardown(() => manager.close());
  const [result] = await manager.connect({ mcpServers: { broken: { command: process.execPath, args: ['-e', 'process.exit(3)'] } } });
  t.equal(result.ok, false);
  t.match(result.error, { code: 'UNAVAILABLE', reason: 'mcp_connect_failed' });
  const connection = manager.get('broken');
  t.match(connection?.health(), { state: 'reconnecting', attempts: 1 }, 'the first failure schedules a retry');
  t.ok((connection?.health().nextRetryAt ?? 0) >= Date.now() - 1_000, 'with a retry time');
  if (connection?.state !== 'failed') await nextState(manager, 'broken', 'failed');
  t.match(connection?.health(), { state: 'failed', attempts: 3 });
  t.match(await registry.invoke('mcp_broken_x', {}, ctx).then(() => null, (e: unknown) => e), { code: 'NOT_FOUND' }, 'it never offered tools');
});

t.test('when a server announces a changed tool list, the registry follows it', async (t) => {
  const registry = new ToolRegistry();
  const manager = new McpManager(registry, { healthIntervalMs: 0 });
  t.teardown(() => manager.close());
  const script = fileURLToPath(new URL('./fixtures/changing_server.js', import.meta.url));
  await manager.connect({ mcpServers: { ch: { command: process.execPath, args: [script] } } });
  const connection = manager.get('ch');
  const listed = (): Promise<void> => new Promise((resolve) => {
    const off = connection?.onTools(() => {
      off?.();
      resolve();
    });
  });
  t.same(registry.list().map((tool) => tool.name), ['mcp_ch_grow', 'mcp_ch_shrink']);
  let next = listed();
  await registry.invoke('mcp_ch_grow', {}, ctx);
  await next;
  t.ok(registry.get('mcp_ch_extra_1'), 'the new tool is registered');
  t.match((await registry.invoke('mcp_ch_extra_1', {}, ctx)).content, /called extra_1/);
  next = listed();
  await registry.invoke('mcp_ch_shrink', {}, ctx);
  await next;
  t.notOk(registry.get('mcp_ch_extra_1'), 'the removed tool is unregistered');
  t.equal(connection?.health().tools, 2);
});
