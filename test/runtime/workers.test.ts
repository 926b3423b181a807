import t, { type Test } from 'tap';
import { ActorSystem, type ActorRef, type ModuleProps, type RuntimeError } from '../../runtime/index.js';
import type { WorkerEvent } from '../../runtime/pool.js';
import { eventually, sleep } from './helpers.js';

const FIXTURES = new URL('./fixtures/actors.js', import.meta.url).href;
const props = (name: string, args?: unknown): ModuleProps => ({ module: FIXTURES, export: name, args });

async function pooled(t: Test, options: Parameters<typeof ActorSystem.start>[0] = {}): Promise<ActorSystem> {
  const sys = await ActorSystem.start({ pool: { workers: 2, ...options.pool }, ...options });
  t.teardown(() => sys.shutdown(500));
  return sys;
}

t.test('keyed placement is stable and spreads keys over the workers', async (t) => {
  const sys = await pooled(t);
  const pool = sys.workers!;
  const hosts = new Set<number>();
  let unstable = 0;
  for (let i = 0; i < 50; i++) {
    const h = pool.place({ key: `session-${i}` }) as number;
    if (pool.place({ key: `session-${i}` }) !== h) unstable++;
    hosts.add(h);
  }
  t.equal(unstable, 0, 'same key, same worker');
  t.same([...hosts].sort(), [1, 2], 'both workers get keys');
  const ref = sys.spawn(props('victim'), { placement: { key: 'session-7' } });
  t.equal(ref.host, pool.place({ key: 'session-7' }));
  t.equal(await ref.ask('inc'), 1);
  t.equal(await ref.ask('inc'), 2);
});

t.test('refs work the same across threads, including refs inside messages', async (t) => {
  const sys = await pooled(t);
  const got: [unknown, string | undefined][] = [];
  const local = sys.spawn<unknown>(() => ({ receive: (msg, ctx) => { got.push([msg, ctx.sender?.path]); } }));
  const remote = sys.spawn(props('bouncer'), { placement: { worker: 1 } });
  t.equal(await remote.ask(['reply-to', local]), 'done');
  await eventually(() => got.length === 1);
  t.same(got, [['hello from worker', remote.path]]);
});

t.test('order per sender→receiver pair is kept across threads', async (t) => {
  const sys = await pooled(t);
  const rec = sys.spawn(props('recorder'), { placement: { worker: 2 }, mailbox: { capacity: 100_000 } });
  for (let i = 0; i < 20_000; i++) rec.tell(['main', i]);
  const fromWorker = sys.spawn(props('sender', { tag: 'w1' }), { placement: { worker: 1 } });
  t.equal(await fromWorker.ask({ go: rec, count: 20_000 }), 'sent');
  await sleep(50);
  const seen = (await rec.ask('dump')) as [string, number][];
  const main = seen.filter(([tag]) => tag === 'main').map(([, n]) => n);
  const w1 = seen.filter(([tag]) => tag === 'w1').map(([, n]) => n);
  t.same(main, Array.from({ length: 20_000 }, (_, i) => i));
  t.same(w1, Array.from({ length: 20_000 }, (_, i) => i));
});

t.test('a handler failure on a worker is supervised there and the actor keeps serving', async (t) => {
  const sys = await pooled(t);
  const v = sys.spawn(props('victim'), { placement: { worker: 1 } });
  await v.ask('inc');
  const err = await v.ask('throw').catch((e: RuntimeError) => e);
  t.match(err, { code: 'INTERNAL', reason: 'actor_failed' });
  t.equal(await v.ask('get'), 0, 'restarted with fresh state');
});

t.test('a coded error rejected on a worker reaches the asker with its code, reason, field and retry hint', async (t) => {
  const sys = await pooled(t);
  const v = sys.spawn(props('victim'), { placement: { worker: 1 } });
  const err = await v.ask('refuse').catch((e: RuntimeError) => e);
  t.match(err, { code: 'OVERLOADED', reason: 'busy', retryable: true, field: 'sessionKey', retryAfterMs: 1234, message: 'busy, retry later' });
  t.equal(await v.ask('inc'), 1, 'a refusal is not a failure: the actor keeps its state');
});

const faults: [string, string, Record<string, unknown>][] = [
  ['uncaught exception', 'uncaught', {}],
  ['process.exit() in the worker', 'exit', {}],
  ['out of memory under resourceLimits', 'oom', { resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 } }],
  ['blocked event loop (missed heartbeats)', 'block', { heartbeatMs: 50, heartbeatMisses: 4 }],
];

for (const [what, fault, poolOptions] of faults) {
  t.test(`worker failure: ${what} → worker replaced, actors restarted, pending asks UNAVAILABLE, others untouched`, async (t) => {
    const sys = await pooled(t, { pool: { workers: 2, ...poolOptions } });
    const pool = sys.workers!;
    const events: WorkerEvent[] = [];
    pool.onEvent((e) => events.push(e));
    const victim = sys.spawn(props('victim'), { placement: { worker: 1 } });
    const hanger = sys.spawn(props('victim'), { placement: { worker: 1 } });
    const bystander = sys.spawn(props('victim'), { placement: { worker: 2 } });
    for (let i = 0; i < 3; i++) {
      await victim.ask('inc');
      await bystander.ask('inc');
    }
    const pending = hanger.ask('hang', { timeoutMs: 30_000 }).catch((e: RuntimeError) => e);
    await sleep(20);
    t.equal(await victim.ask(fault), 'ok');
    const err = await pending;
    t.match(err, { code: 'UNAVAILABLE', retryable: true }, 'the pending ask failed with a retryable UNAVAILABLE');
    t.ok(await eventually(() => events.some((e) => e.type === 'worker-ready' && e.host === 1), 15_000), 'a replacement worker came up');
    const exit = events.find((e) => e.type === 'worker-exit');
    t.equal(exit?.host, 1);
    if (fault === 'oom') t.equal(exit?.reason, 'out_of_memory');
    if (fault === 'block') t.equal(exit?.reason, 'unresponsive');
    t.equal(pool.replacements, 1);
    // The victim was restarted by its supervisor under the same ref, with fresh state.
    t.equal(await victim.ask('inc'), 1);
    // The actor on the other worker noticed nothing: its state is intact.
    t.equal(await bystander.ask('get'), 3);
    t.ok(pool.healthy);
  });
}

t.test('a temporary actor on a dead worker is not restarted, and its watchers are told', async (t) => {
  const sys = await pooled(t);
  const v = sys.spawn(props('victim'), { placement: { worker: 1 }, restart: 'temporary' });
  const terminated: unknown[] = [];
  sys.spawn<unknown>(() => ({
    preStart(ctx) { ctx.watch(v); },
    receive(msg) { terminated.push(msg); },
  }));
  await v.ask('inc');
  const ready = new Promise<void>((r) => sys.workers!.onEvent((e) => { if (e.type === 'worker-ready') r(); }));
  await v.ask('exit');
  await ready;
  t.ok(await eventually(() => terminated.length === 1, 5_000), 'the watcher got Terminated');
  const err = await v.ask('get', { timeoutMs: 1_000 }).catch((e: RuntimeError) => e);
  t.match(err, { code: 'NOT_FOUND' });
});

t.test('runtime metrics cover every host', async (t) => {
  const sys = await pooled(t, { pool: { workers: 2, statsMs: 20 } });
  const v = sys.spawn(props('victim'), { placement: { worker: 2 } });
  for (let i = 0; i < 10; i++) await v.ask('inc');
  await sleep(80);
  const snap = sys.metricsSnapshot();
  t.equal(snap.hosts.length, 3);
  const w2 = snap.hosts.find((h) => h.host === 2)!;
  t.ok(w2.processed >= 10, `worker 2 processed ${w2.processed}`);
  t.equal(w2.actors, 1);
  t.ok(w2.eventLoopUtilization >= 0 && w2.eventLoopUtilization <= 1);
  t.equal(snap.workerReplacements, 0);
});

/**
 * A pool that replaces a blocked worker within ~200 ms, and an actor on `worker` whose event loop is now
 * blocked (it takes nothing more off its links); `replaced()` waits for that worker's exit.
 */
async function blockedWorker(t: Test, worker: number): Promise<{ sys: ActorSystem; victim: ActorRef; replaced(): Promise<boolean> }> {
  const sys = await pooled(t, { pool: { workers: 2, heartbeatMs: 50, heartbeatMisses: 4 } });
  const events: WorkerEvent[] = [];
  sys.workers!.onEvent((e) => events.push(e));
  const victim = sys.spawn(props('victim'), { placement: { worker } });
  t.equal(await victim.ask('block'), 'ok');
  await sleep(30);
  return { sys, victim, replaced: () => eventually(() => events.some((e) => e.type === 'worker-exit' && e.host === worker), 10_000) };
}

t.test('tells in flight to a worker that dies before confirming them are counted as unconfirmed, not lost silently', async (t) => {
  const { sys, victim, replaced } = await blockedWorker(t, 1);
  const before = sys.metrics.unconfirmed;
  for (let i = 0; i < 100; i++) victim.tell('inc');
  await sleep(20); // the batch goes out on the next turn of this thread's loop
  t.ok(await replaced(), 'the blocked worker was replaced');
  t.equal(sys.metrics.unconfirmed - before, 100, 'the blocked worker took none of the 100 tells: all are counted');
});

t.test('a worker counts what it sent a dead worker unconfirmed, and the main thread reads it from shared memory', async (t) => {
  const { sys, victim, replaced } = await blockedWorker(t, 2);
  const from = sys.spawn(props('sender', { tag: 'w1' }), { placement: { worker: 1 } });
  t.equal(await from.ask({ go: victim, count: 100 }), 'sent', 'worker 1 sent 100 tells to the blocked worker 2');
  t.ok(await replaced(), 'the blocked worker was replaced');
  const ofWorker1 = () => sys.metricsSnapshot().hosts.find((h) => h.host === 1)?.unconfirmed;
  t.ok(await eventually(() => ofWorker1() === 100, 5_000), `worker 1's count reaches the snapshot (${String(ofWorker1())})`);
});

t.test('pooled shutdown drains workers and terminates them without hanging', async (t) => {
  const sys = await ActorSystem.start({ pool: { workers: 2 } });
  const refs: ActorRef[] = [];
  for (let i = 0; i < 10; i++) refs.push(sys.spawn(props('victim'), { placement: { key: `k${i}` } }));
  for (const r of refs) r.tell('inc');
  const started = Date.now();
  await sys.shutdown(1_000);
  t.ok(Date.now() - started < 3_000);
  t.notOk(sys.workers!.healthy);
});
