import t from 'tap';
import { McpManager } from '../../tools/mcp/manager.js';
import { ToolRegistry } from '../../tools/registry.js';
import { context } from './helpers.js';
import { startEverythingHttp } from './mcp_servers.js';

const ctx = context('/tmp/troupe-unused');

t.test('MCP over streamable HTTP is refused by the SSRF guard unless loopback is allowed', async (t) => {
  const { url } = await startEverythingHttp(t);
  const registry = new ToolRegistry();
  const manager = new McpManager(registry, { healthIntervalMs: 0 });
  t.teardown(() => manager.close());
  const [result] = await manager.connect({ mcpServers: { remote: { url } } });
  t.equal(result.ok, false);
  t.match(result.error, { code: 'FORBIDDEN' });
  t.equal(manager.get('remote')?.state, 'failed', 'a refused address is not retried');
  t.equal(registry.size, 0);
});

t.test('with 127.0.0.1 allowed, tools are listed and called over streamable HTTP', async (t) => {
  const { url } = await startEverythingHttp(t);
  const registry = new ToolRegistry();
  const manager = new McpManager(registry, { healthIntervalMs: 0, http: { allowHosts: ['127.0.0.1'] } });
  t.teardown(() => manager.close());
  const [result] = await manager.connect({ mcpServers: { remote: { url, headers: { 'x-test': 'yes' } } } });
  t.equal(result.ok, true, result.error?.message ?? 'connected');
  t.ok(registry.get('mcp_remote_echo'));
  t.match((await registry.invoke('mcp_remote_echo', { message: 'over http' }, ctx)).content, /Echo: over http/);
  t.match((await registry.invoke('mcp_remote_get-sum', { a: 2, b: 3 }, ctx)).content, /5/);
});

t.test('a health check notices a dead HTTP server and the connection starts reconnecting', async (t) => {
  const { url, child } = await startEverythingHttp(t);
  const registry = new ToolRegistry();
  const manager = new McpManager(registry, { healthIntervalMs: 0, pingTimeoutMs: 2_000, backoff: { baseMs: 5_000 }, http: { allowHosts: ['127.0.0.1'] } });
  t.teardown(() => manager.close());
  await manager.connect({ mcpServers: { remote: { url } } });
  const connection = manager.get('remote');
  t.match(await connection?.checkHealth(), { state: 'ready' });
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  const health = await connection?.checkHealth();
  t.match(health, { state: 'reconnecting', lastError: /health check failed/ });
  t.ok((health?.nextRetryAt ?? 0) > Date.now(), 'the next attempt is scheduled after a backoff');
  t.match(await registry.invoke('mcp_remote_echo', { message: 'x' }, ctx).then(() => null, (e: unknown) => e), { code: 'UNAVAILABLE', retryable: true });
});
