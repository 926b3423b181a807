import t from 'tap';
import { TaskPool, type TaskPoolOptions } from '../../runtime/index.js';
import { sleep } from './helpers.js';

const echo = new URL('./fixtures/task_echo.js', import.meta.url).href;
const bad = new URL('./fixtures/task_misbehave.js', import.meta.url).href;

function newPool(t: { teardown(fn: () => unknown): void }, options: TaskPoolOptions = {}): TaskPool {
  const pool = new TaskPool({ maxThreads: 2, ...options });
  t.teardown(() => pool.destroy());
  return pool;
}

function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => new Error('expected a rejection'), (err: unknown) => err);
}

t.test('a task returns what its export returns, sync or async', async (t) => {
  const pool = newPool(t);
  t.same(await pool.run({ module: echo, args: { a: [1, 2] } }), { echoed: { a: [1, 2] } }, 'default export');
  t.equal(await pool.run({ module: echo, export: 'sleepThenReturn', args: { ms: 5, value: 'late' } }), 'late', 'async export');
  t.match(pool.metrics(), { submitted: 2, completed: 2, failed: 0, inFlight: 0 });
});

t.test('an infinite loop is killed at its timeout and its worker is replaced', async (t) => {
  const pool = newPool(t, { maxThreads: 1 });
  const before = await pool.run<number>({ module: echo, export: 'threadId' });
  const err = await rejection(pool.run({ module: bad, export: 'spin' }, { timeoutMs: 300 }));
  t.match(err, { code: 'TIMEOUT', reason: 'task_timeout', retryable: false, timeoutMs: 300 });
  const after = await pool.run<number>({ module: echo, export: 'threadId' });
  t.not(after, before, 'the next task runs on a fresh worker: the spinning one was terminated');
  t.equal(pool.metrics().timedOut, 1);
});

t.test('tasks running beside a spinning task finish normally', async (t) => {
  const pool = newPool(t, { maxThreads: 2 });
  const spin = rejection(pool.run({ module: bad, export: 'spin' }, { timeoutMs: 400 }));
  const others = Promise.all([1, 2, 3].map((n) => pool.run({ module: echo, export: 'sleepThenReturn', args: { ms: 20, value: n } })));
  t.same(await others, [1, 2, 3]);
  t.match(await spin, { code: 'TIMEOUT', reason: 'task_timeout' });
  t.same(await pool.run({ module: echo, args: 'after' }), { echoed: 'after' }, 'the pool keeps serving');
});

t.test('the deadline counts queue time: a task stuck behind a busy worker times out unstarted', async (t) => {
  const pool = newPool(t, { maxThreads: 1 });
  const spin = rejection(pool.run({ module: bad, export: 'spin' }, { timeoutMs: 800 }));
  const queued = await rejection(pool.run({ module: echo, args: 'late' }, { timeoutMs: 200 }));
  t.match(queued, { code: 'TIMEOUT', reason: 'task_timeout', timeoutMs: 200 });
  t.match(await spin, { code: 'TIMEOUT', timeoutMs: 800 }, 'the running task keeps its own deadline');
  t.match(pool.metrics(), { timedOut: 2, inFlight: 0, queueSize: 0 });
});

t.test('a memory hog is killed at its resource limit and the pool keeps serving', async (t) => {
  const pool = newPool(t, { maxThreads: 1, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 } });
  // Generous: near its heap limit V8 collects over and over before giving up, slow on a busy CPU.
  const err = await rejection(pool.run({ module: bad, export: 'hogMemory' }, { timeoutMs: 90_000 }));
  t.match(err, { code: 'INTERNAL', reason: 'task_out_of_memory', retryable: false });
  t.match((err as Error).cause, { code: 'ERR_WORKER_OUT_OF_MEMORY' }, 'the worker error is kept as cause');
  t.same(await pool.run({ module: echo, args: 1 }), { echoed: 1 });
  t.match(pool.metrics(), { outOfMemory: 1, completed: 1 });
});

t.test('the caller\'s AbortSignal stops a running task', async (t) => {
  const pool = newPool(t, { maxThreads: 1 });
  const ac = new AbortController();
  const running = rejection(pool.run({ module: bad, export: 'spin' }, { signal: ac.signal, timeoutMs: 20_000 }));
  await sleep(100);
  ac.abort('user cancelled');
  const err = await running;
  t.match(err, { code: 'UNAVAILABLE', reason: 'task_aborted', retryable: false });
  t.equal((err as Error).cause, 'user cancelled', 'the signal reason is the cause');
  t.same(await pool.run({ module: echo, args: 2 }), { echoed: 2 }, 'a fresh worker takes the next task');
  t.equal(pool.metrics().aborted, 1);
});

t.test('an already aborted signal rejects without running the task', async (t) => {
  const pool = newPool(t);
  const err = await rejection(pool.run({ module: echo }, { signal: AbortSignal.abort() }));
  t.match(err, { code: 'UNAVAILABLE', reason: 'task_aborted' });
  t.match(pool.metrics(), { submitted: 0, aborted: 1 });
});

t.test('aborting a queued task takes it off the queue and leaves the running one alone', async (t) => {
  const pool = newPool(t, { maxThreads: 1 });
  const first = pool.run({ module: echo, export: 'sleepThenReturn', args: { ms: 200, value: 'first' } });
  const ac = new AbortController();
  const queued = rejection(pool.run({ module: echo, args: 'never' }, { signal: ac.signal }));
  ac.abort();
  t.match(await queued, { reason: 'task_aborted' });
  t.equal(await first, 'first');
});

t.test('a task that throws surfaces task_failed with its message and error as cause', async (t) => {
  const pool = newPool(t);
  const err = await rejection(pool.run({ module: bad, export: 'fail', args: { message: 'boom', code: 'E_BOOM' } }));
  t.match(err, { code: 'INTERNAL', reason: 'task_failed', retryable: false, message: /boom/ });
  t.match((err as Error).cause, { name: 'TypeError', message: 'boom', code: 'E_BOOM' });
  const rejected = await rejection(pool.run({ module: bad, export: 'rejectLater', args: { message: 'later' } }));
  t.match(rejected, { reason: 'task_failed', message: /later/ }, 'async rejections too');
  t.match(pool.metrics(), { failed: 2, completed: 0 });
});

t.test('a full queue rejects with OVERLOADED and the accepted tasks still finish', async (t) => {
  const pool = newPool(t, { maxThreads: 1, maxQueue: 1 });
  const slow = { module: echo, export: 'sleepThenReturn' };
  const accepted = [pool.run({ ...slow, args: { ms: 100, value: 1 } }), pool.run({ ...slow, args: { ms: 1, value: 2 } })];
  const err = await rejection(pool.run({ ...slow, args: { ms: 1, value: 3 } }));
  t.match(err, { code: 'OVERLOADED', reason: 'task_queue_full', retryable: true, capacity: 2 });
  t.same(await Promise.all(accepted), [1, 2]);
  t.match(pool.metrics(), { rejected: 1, completed: 2 });
});

t.test('malformed tasks are rejected with INVALID_REQUEST and a precise reason', async (t) => {
  const pool = newPool(t);
  t.match(await rejection(pool.run({ module: 'data:text/javascript,export default () => 1' })), { code: 'INVALID_REQUEST', reason: 'task_invalid' });
  t.match(await rejection(pool.run({ module: './relative.js' })), { reason: 'task_invalid' });
  t.match(await rejection(pool.run({ module: echo, export: 'nope' })), { code: 'INVALID_REQUEST', reason: 'task_export_missing' });
  const missing = new URL('./fixtures/does_not_exist.js', import.meta.url).href;
  t.match(await rejection(pool.run({ module: missing })), { code: 'INVALID_REQUEST', reason: 'task_module_not_found' });
  t.match(await rejection(pool.run({ module: echo, args: { f: () => 1 } })), { reason: 'task_not_cloneable' }, 'args');
  t.match(await rejection(pool.run({ module: bad, export: 'returnsFunction' })), { reason: 'task_not_cloneable' }, 'result');
  t.same(await pool.run({ module: echo, args: 'ok' }), { echoed: 'ok' }, 'the pool still serves');
});

t.test('bad pool options and run timeouts are refused before anything runs', async (t) => {
  t.throws(() => new TaskPool({ maxThreads: 0 }), RangeError);
  t.throws(() => new TaskPool({ minThreads: 3, maxThreads: 2 }), RangeError);
  t.throws(() => new TaskPool({ resourceLimits: { maxOldGenerationSizeMb: -1 } }), RangeError);
  const pool = newPool(t);
  t.match(await rejection(pool.run({ module: echo }, { timeoutMs: 0 })), { code: 'INVALID_REQUEST', reason: 'task_invalid' });
  t.match(await rejection(pool.run({ module: echo }, { timeoutMs: 2 ** 31 })), { reason: 'task_invalid' }, 'beyond what setTimeout can wait');
});

t.test('close lets in-flight tasks finish, then refuses new ones', async (t) => {
  const pool = newPool(t);
  const inFlight = pool.run({ module: echo, export: 'sleepThenReturn', args: { ms: 50, value: 'done' } });
  const closed = pool.close(5_000);
  t.match(await rejection(pool.run({ module: echo })), { code: 'UNAVAILABLE', reason: 'task_pool_closed' });
  t.equal(await inFlight, 'done');
  await closed;
  t.equal(pool.metrics().threads, 0, 'every worker is gone');
});

t.test('close terminates tasks still running at its deadline', async (t) => {
  const pool = newPool(t);
  const spinning = rejection(pool.run({ module: bad, export: 'spin' }, { timeoutMs: 20_000 }));
  await sleep(50);
  await pool.close(100);
  t.match(await spinning, { code: 'UNAVAILABLE', reason: 'task_pool_closed' });
  t.equal(pool.metrics().threads, 0);
});
