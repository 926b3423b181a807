import t from 'tap';
import { TaskPool } from '../../runtime/tasks.js';
import { isolatedTool } from '../../tools/isolated.js';
import { ToolRegistry } from '../../tools/registry.js';
import { context, toolError } from './helpers.js';

const fixture = new URL('./fixtures/isolated_tools.js', import.meta.url).href;
const params = { type: 'object', properties: { text: { type: 'string' } }, additionalProperties: false };

t.test('a hung JS tool is killed at its timeout while another tool completes', async (t) => {
  const pool = new TaskPool({ maxThreads: 2 });
  t.teardown(() => pool.destroy());
  const registry = new ToolRegistry();
  registry.register(isolatedTool({ name: 'spin', description: 'never ends', parameters: params, readOnly: true, module: fixture, export: 'spin', timeoutMs: 500 }, pool));
  registry.register(isolatedTool({ name: 'upper', description: 'upper-cases', parameters: params, readOnly: true, module: fixture, export: 'upper' }, pool));
  const ctx = context('/tmp/troupe-unused');
  const hung = toolError(registry.invoke('spin', {}, ctx));
  const other = await registry.invoke('upper', { text: 'still here' }, ctx);
  t.same(other, { content: 'STILL HERE', data: { session: 's1' } }, 'the other tool answered while the spinner held a worker');
  t.match(await hung, { code: 'TIMEOUT', reason: 'task_timeout' }, 'the pool killed the spinning worker at its deadline');
  t.equal(pool.metrics().timedOut, 1);
  t.same(await registry.invoke('upper', { text: 'after' }, ctx), { content: 'AFTER', data: { session: 's1' } }, 'the pool keeps serving');
});
