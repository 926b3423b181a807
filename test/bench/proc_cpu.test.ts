import t from 'tap';
import { Worker } from 'node:worker_threads';
import { cpuSnapshot, cpuSpent, threadCpuSeconds, type CpuSnapshot } from '../../bench/common/proc_cpu.js';

const linux = process.platform === 'linux';

/** A fixed amount of work on the calling thread (process.cpuUsage() would count every thread, not this one). */
function burn(): void {
  let x = 0;
  for (let i = 0; i < 200_000_000; i++) x += Math.sqrt(i);
  if (x < 0) throw new Error('unreachable');
}

t.test('the CPU this thread spends shows as main, and the total covers it', { skip: !linux && 'needs /proc' }, async (t) => {
  const before = cpuSnapshot(process.pid);
  t.equal(before.get(process.pid)?.name, 'main', 'the thread whose id is the pid is the main thread');
  const mainBefore = threadCpuSeconds(process.pid, process.pid);
  burn();
  const spent = cpuSpent(before, cpuSnapshot(process.pid));
  t.ok((spent.main ?? 0) >= 0.05, `main spent the work (got ${spent.main})`);
  t.ok((spent.total ?? 0) >= (spent.main ?? 0), 'the total includes main');
  t.ok((threadCpuSeconds(process.pid, process.pid) ?? 0) - (mainBefore ?? 0) >= 0.05, 'one thread read directly agrees');
});

t.test('a busy worker thread is told apart from main by its thread id', { skip: !linux && 'needs /proc' }, async (t) => {
  // Taken before the worker exists: a thread absent from `before` counts from zero.
  const before = cpuSnapshot(process.pid);
  const worker = new Worker(`
    const { parentPort } = require('node:worker_threads');
    // A fixed amount of work (process.cpuUsage() would count every thread, not this one).
    let x = 0;
    for (let i = 0; i < 50_000_000; i++) x += Math.sqrt(i);
    parentPort.postMessage(x > -1);
    // Stay alive until terminated: an exited thread leaves /proc/<pid>/task, and its CPU with it.
    parentPort.on('message', () => undefined);`, { eval: true });
  await new Promise((r) => worker.once('message', r));
  const spent = cpuSpent(before, cpuSnapshot(process.pid));
  await worker.terminate();
  const busiest = Object.entries(spent).filter(([k]) => k !== 'total' && k !== 'main').sort((a, b) => b[1] - a[1])[0];
  t.ok(busiest !== undefined && busiest[1] >= 0.05, `a thread other than main spent the worker's work (got ${JSON.stringify(spent)})`);
  t.ok((spent.main ?? 0) < (busiest?.[1] ?? 0), 'main, which only waited, spent less');
});

t.test('threads sharing a name are keyed by id; threads under 1 % of the total are summed as other', async (t) => {
  const before: CpuSnapshot = new Map([[1, { name: 'main', seconds: 1 }], [2, { name: 'node', seconds: 0 }], [3, { name: 'node', seconds: 0 }]]);
  const after: CpuSnapshot = new Map([
    [1, { name: 'main', seconds: 2 }], [2, { name: 'node', seconds: 3 }], [3, { name: 'node', seconds: 0.5 }],
    [4, { name: 'libuv-worker', seconds: 0.01 }], [5, { name: 'V8 DefaultWorke', seconds: 0.02 }],
  ]);
  const spent = Object.fromEntries(Object.entries(cpuSpent(before, after)).map(([k, v]) => [k, Math.round(v * 1000) / 1000]));
  t.same(spent, { total: 4.53, main: 1, 'node:2': 3, 'node:3': 0.5, other: 0.03 });
});

t.test('a process that does not exist has no threads', async (t) => {
  t.equal(cpuSnapshot(2 ** 30).size, 0);
  t.equal(threadCpuSeconds(2 ** 30, 2 ** 30), undefined);
});
