// A tenant's own MCP servers on one worker (actors/tenant_mcp.ts), against the
// real server-everything over stdio: a run's lease keeps its connection while
// a change builds the next one, the old client is closed when the last such
// run ends, a removed set closes its clients the same way, sealed values are
// fetched only to connect, and a definition the worker's limits refuse is
// left out without failing the others.
import t from 'tap';
import { registryToolbox } from '../../actors/tool_host.js';
import { TenantMcpLayers, type TenantMcpServer, type TenantToolLease } from '../../actors/tenant_mcp.js';
import { ToolRegistry } from '../../tools/registry.js';
import { tempDir } from '../tools/helpers.js';
import { everything } from '../tools/mcp_servers.js';

const server = (id: string, version: string, extra: Record<string, unknown> = {}): TenantMcpServer => ({
  id, definition: { ...everything(), envNames: ['TROUPE_VISIBLE'], ...extra }, sealed: true, version,
});

/** Lets a released layer's close start (it runs after the release returns). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs the lease's get-env tool of server `id`: what the server process sees, or the error the run gets. */
async function env(lease: TenantToolLease, id: string): Promise<{ content: string; isError?: boolean }> {
  const tool = lease.tools.find((x) => x.spec.name === `mcp_${id}_get-env`);
  if (tool === undefined) return { content: 'not offered', isError: true };
  return tool.run({}, { sessionId: 's', tenant: 'acme', signal: new AbortController().signal });
}

t.test('leases, rebuilds and closing on one worker', async (t) => {
  const dir = await tempDir(t);
  const layers = new TenantMcpLayers({ registry: () => new ToolRegistry(), toolbox: (r) => registryToolbox(r, dir), mcp: { healthIntervalMs: 0 } });
  t.teardown(() => layers.close());
  const fetched: string[] = [];
  let value = 'one';
  const fetch = async (tenant: string, id: string) => {
    fetched.push(`${tenant}/${id}`);
    return { TROUPE_VISIBLE: value };
  };

  const first = await layers.acquire('acme', [server('ev', '1')], fetch);
  t.match(await env(first, 'ev'), { content: /"TROUPE_VISIBLE": "one"/ }, 'connected with the fetched value');
  const again = await layers.acquire('acme', [server('ev', '1')], fetch);
  t.same(fetched, ['acme/ev'], 'the same version reuses the connection: fetched once');
  t.same((await layers.acquire('other', [], fetch)).tools, [], 'a tenant without servers gets none, and nothing of acme');

  value = 'two';
  const second = await layers.acquire('acme', [server('ev', '2')], fetch);
  t.match(await env(second, 'ev'), { content: /"TROUPE_VISIBLE": "two"/ }, 'a new version connects anew');
  t.match(await env(first, 'ev'), { content: /"TROUPE_VISIBLE": "one"/ }, 'a run in flight keeps the old connection');
  first.release();
  t.match(await env(again, 'ev'), { content: /"TROUPE_VISIBLE": "one"/ }, 'still open while one run holds it');
  again.release();
  again.release();
  await settle();
  t.match(await env(first, 'ev'), { isError: true }, 'closed once the last run released it');
  t.equal(layers.size, 1);

  // Every server removed: the next acquire closes the set once its runs are done.
  const none = await layers.acquire('acme', [], fetch);
  t.same(none.tools, []);
  t.equal(layers.size, 0);
  t.match(await env(second, 'ev'), { content: /"TROUPE_VISIBLE": "two"/ }, 'the run that holds it still calls it');
  second.release();
  await settle();
  t.match(await env(second, 'ev'), { isError: true }, 'then its client is closed');
});

t.test("a definition this worker's limits refuse is left out; a value that cannot be fetched fails the run and is tried again", async (t) => {
  const dir = await tempDir(t);
  const layers = new TenantMcpLayers({ registry: () => new ToolRegistry(), toolbox: (r) => registryToolbox(r, dir), mcp: { healthIntervalMs: 0 } });
  t.teardown(() => layers.close());
  let fail = true;
  const fetch = async () => {
    if (fail) throw new Error('store worker away');
    return { TROUPE_VISIBLE: 'back' };
  };
  await t.rejects(layers.acquire('acme', [server('ev', '1')], fetch), /store worker away/);
  t.equal(layers.size, 0, 'the failed build is not kept');
  fail = false;
  const lease = await layers.acquire('acme', [server('ev', '1'), server('evil', '1', { command: 'sh', args: ['-c', 'id'] })], fetch);
  t.match(await env(lease, 'ev'), { content: /"TROUPE_VISIBLE": "back"/ }, 'tried again at the next run');
  t.notOk(lease.tools.some((x) => x.spec.name.startsWith('mcp_evil_')), 'the refused server offers nothing');
  lease.release();
});
