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

const misbehave = new URL('../runtime/fixtures/task_misbehave.js', import.meta.url).href;

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 10));
}

t.test('a caller abort stops a running JS tool (UNAVAILABLE aborted) and the pool keeps serving', async (t) => {
  const pool = new TaskPool({ maxThreads: 1 });
  t.teardown(() => pool.destroy());
  const registry = new ToolRegistry();
  registry.register(isolatedTool({ name: 'spin', description: 'never ends', parameters: params, readOnly: true, module: fixture, export: 'spin', timeoutMs: 60_000 }, pool));
  registry.register(isolatedTool({ name: 'upper', description: 'upper-cases', parameters: params, readOnly: true, module: fixture, export: 'upper' }, pool));
  const abort = new AbortController();
  const hung = toolError(registry.invoke('spin', {}, context('/tmp/troupe-unused', { signal: abort.signal })));
  await until(() => pool.metrics().threads === 1 && pool.metrics().inFlight === 1);
  abort.abort(new Error('user pressed stop'));
  t.match(await hung, { code: 'UNAVAILABLE', reason: 'aborted' });
  // One thread only: this answers only if the spinning worker was terminated.
  t.same(await registry.invoke('upper', { text: 'next' }, context('/tmp/troupe-unused')), { content: 'NEXT', data: { session: 's1' } });
  await until(() => pool.metrics().inFlight === 0);
  t.match(pool.metrics(), { aborted: 1, completed: 1, timedOut: 0, inFlight: 0 });
});

t.test('a memory hog is killed at the pool\'s heap limit (INTERNAL task_out_of_memory) and the pool keeps serving', async (t) => {
  const pool = new TaskPool({ maxThreads: 1, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 } });
  t.teardown(() => pool.destroy());
  const registry = new ToolRegistry();
  // Generous deadline: near its heap limit V8 collects over and over before giving up.
  registry.register(isolatedTool({ name: 'hog', description: 'eats memory', parameters: params, readOnly: true, module: misbehave, export: 'hogMemory', timeoutMs: 90_000 }, pool));
  registry.register(isolatedTool({ name: 'upper', description: 'upper-cases', parameters: params, readOnly: true, module: fixture, export: 'upper' }, pool));
  const ctx = context('/tmp/troupe-unused');
  t.match(await toolError(registry.invoke('hog', {}, ctx)), { code: 'INTERNAL', reason: 'task_out_of_memory' });
  t.same(await registry.invoke('upper', { text: 'alive' }, ctx), { content: 'ALIVE', data: { session: 's1' } });
  t.match(pool.metrics(), { outOfMemory: 1, completed: 1 });
});

t.test('a pool given as a function is made at the first call, not before', async (t) => {
  let made: TaskPool | undefined;
  const registry = new ToolRegistry();
  registry.register(isolatedTool({ name: 'upper', description: 'upper-cases', parameters: params, readOnly: true, module: fixture, export: 'upper' }, () => (made ??= new TaskPool({ maxThreads: 1 }))));
  t.teardown(() => made?.destroy());
  t.equal(made, undefined, 'registering does not start a pool');
  t.same(await registry.invoke('upper', { text: 'x' }, context('/tmp/troupe-unused')), { content: 'X', data: { session: 's1' } });
  t.equal(made?.metrics().completed, 1, 'the first call made the pool and ran on it');
});
