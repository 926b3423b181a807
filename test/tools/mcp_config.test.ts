import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../gateway/config.js';
import { backoffDelay } from '../../tools/mcp/backoff.js';
import { checkMcpConfig, checkStdioServer } from '../../tools/mcp/config.js';
import { McpManager } from '../../tools/mcp/manager.js';
import { mcpToolName } from '../../tools/mcp/names.js';
import { ToolRegistry } from '../../tools/registry.js';
import { everything } from './mcp_servers.js';

t.test('a stdio command outside the allowlist is refused with FORBIDDEN', async (t) => {
  t.throws(() => checkStdioServer('x', { command: '/bin/sh', args: ['-c', 'id'] }), { code: 'FORBIDDEN', reason: 'mcp_command_not_allowed' });
  t.throws(() => checkStdioServer('x', { command: 'bash' }), { code: 'FORBIDDEN', reason: 'mcp_command_not_allowed' });
  t.throws(() => checkStdioServer('x', { command: './node' }), { code: 'FORBIDDEN', reason: 'mcp_command_not_allowed' });
  t.doesNotThrow(() => checkStdioServer('x', { command: process.execPath }));
  t.doesNotThrow(() => checkStdioServer('x', { command: '/opt/mcp/server' }, { allowedCommands: ['/opt/mcp/server'] }));
});

t.test('npx is not allowed by default: `npx -y <name>` would download and run any package', async (t) => {
  t.throws(() => checkStdioServer('x', { command: 'npx', args: ['-y', 'x'] }), { code: 'FORBIDDEN', reason: 'mcp_command_not_allowed', message: /not in the allowlist \(tools\.mcp\.stdioLimits\.allowedCommands\)/ });
  t.doesNotThrow(() => checkStdioServer('x', { command: 'npx', args: ['-y', 'x'] }, { allowedCommands: ['npx'] }), 'an operator may allow it');
});

/** loadConfig on a config file holding `tools`, with the environment a test gateway uses. */
function configWith(tools: unknown): ReturnType<typeof loadConfig> {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-mcpcfg-'));
  writeFileSync(join(dir, 'troupe.json'), JSON.stringify({ tools }));
  return loadConfig({ TROUPE_DATA_DIR: dir, TROUPE_JWT_SECRET: 'a-test-secret-that-is-long-enough-for-hs256' }, join(dir, 'troupe.json'));
}

t.test('gateway config: an npx server is refused at load by default, accepted once tools.mcp widens the allowlist', async (t) => {
  const mcpServers = { pkg: { command: 'npx', args: ['-y', 'x'] } };
  t.throws(() => configWith({ mcpServers }), { name: 'ConfigError', code: 'INVALID_REQUEST', reason: 'mcp_command_not_allowed', message: /tools\.mcpServers: mcp server pkg: command 'npx'/ });
  const config = configWith({ mcpServers, mcp: { stdioLimits: { allowedCommands: ['npx'] }, http: { allowHosts: ['127.0.0.1'] }, healthIntervalMs: 0 } });
  t.same(config.tools.mcp, { stdioLimits: { allowedCommands: ['npx'] }, http: { allowHosts: ['127.0.0.1'] }, healthIntervalMs: 0 }, 'the options reach the tool hosts');
});

t.test('gateway config: bad tools.mcp options fail at load with the setting named', async (t) => {
  t.throws(() => configWith({ mcp: { stdioLimits: { allowedCommands: 'npx' } } }), { reason: 'bad_tools_config', message: /tools\.mcp\.stdioLimits\.allowedCommands/ });
  t.throws(() => configWith({ mcp: { callTimeoutMs: -1 } }), { message: /tools\.mcp\.callTimeoutMs/ });
  t.throws(() => configWith({ mcp: { resolver: 'x' } }), { message: /tools\.mcp\.resolver is not an allowed property/ });
  t.throws(() => configWith({ builtins: { memory: {} } }), { reason: 'bad_tools_config', message: /tools\.builtins\.memory cannot be set in a config file/ });
});

t.test('shell metacharacters in the command or its arguments are refused', async (t) => {
  t.throws(() => checkStdioServer('x', { command: 'node;rm' }), { code: 'FORBIDDEN', reason: 'mcp_shell_metacharacters' });
  t.throws(() => checkStdioServer('x', { command: 'node x.js' }), { code: 'FORBIDDEN', reason: 'mcp_shell_metacharacters' });
  t.throws(() => checkStdioServer('x', { command: 'node', args: ['$(curl evil)'] }), { code: 'FORBIDDEN', reason: 'mcp_shell_metacharacters' });
  t.throws(() => checkStdioServer('x', { command: 'node', args: ['a | b'] }), { code: 'FORBIDDEN' });
});

t.test('environment variables that change how programs load code are refused', async (t) => {
  for (const key of ['NODE_OPTIONS', 'LD_PRELOAD', 'DYLD_INSERT_LIBRARIES', 'BASH_ENV', 'PYTHONPATH']) {
    t.throws(() => checkStdioServer('x', { command: 'node', env: { [key]: 'x' } }), { code: 'FORBIDDEN', reason: 'mcp_env_not_allowed' }, key);
  }
  t.throws(() => checkStdioServer('x', { command: 'node', env: { 'BAD-NAME': 'x' } }), { code: 'INVALID_REQUEST' });
  t.doesNotThrow(() => checkStdioServer('x', { command: 'node', env: { API_BASE: 'x' } }));
});

t.test('bad server names, URLs and entries are INVALID_REQUEST', async (t) => {
  t.throws(() => checkMcpConfig({ mcpServers: { 'bad name': { command: 'node' } } }), { code: 'INVALID_REQUEST' });
  t.throws(() => checkMcpConfig({ mcpServers: { web: { url: 'ftp://example.com' } } }), { code: 'INVALID_REQUEST' });
  t.throws(() => checkMcpConfig({ mcpServers: { web: {} as { url: string } } }), { code: 'INVALID_REQUEST' });
});

t.test('the manager refuses a config with a disallowed command before starting any server', async (t) => {
  const registry = new ToolRegistry();
  const manager = new McpManager(registry, { healthIntervalMs: 0 });
  t.teardown(() => manager.close());
  const attempt = manager.connect({ mcpServers: { good: everything(), evil: { command: 'sh', args: ['-c', 'id'] } } });
  await t.rejects(attempt, { code: 'FORBIDDEN', reason: 'mcp_command_not_allowed' });
  t.equal(manager.health().length, 0, 'nothing was started');
  t.equal(registry.size, 0);
});

t.test('tool names are mcp_<server>_<tool>, rewritten (with a hash) only when providers would refuse them', async (t) => {
  t.equal(mcpToolName('fs', 'read_file'), 'mcp_fs_read_file');
  t.equal(mcpToolName('ev', 'get-sum'), 'mcp_ev_get-sum');
  const dotted = mcpToolName('ev', 'a.b');
  t.match(dotted, /^mcp_ev_a_b_[0-9a-f]{8}$/);
  t.not(dotted, mcpToolName('ev', 'a/b'), 'different originals stay distinct');
  const long = mcpToolName('server', 'x'.repeat(100));
  t.ok(long.length <= 64 && /^[A-Za-z0-9_-]+$/.test(long));
});

t.test('backoff doubles per attempt within jitter and stops at the cap', async (t) => {
  const top = (n: number): number => backoffDelay(n, { baseMs: 100, maxMs: 1_000 }, () => 1);
  const bottom = (n: number): number => backoffDelay(n, { baseMs: 100, maxMs: 1_000 }, () => 0);
  t.same([0, 1, 2, 3, 4, 10].map(top), [100, 200, 400, 800, 1000, 1000]);
  t.same([0, 1, 2].map(bottom), [50, 100, 200]);
});
