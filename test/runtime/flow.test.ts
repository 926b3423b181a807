/**
 * Flow control across threads (runtime/link.ts): a flood to a live but slow
 * worker stays bounded, the sender hears of every refusal, order holds, and a
 * worker dying mid-flood still gives callers UNAVAILABLE. Real worker threads;
 * the assertions are on queue lengths and counts, never on time.
 */
import t, { type Test } from 'tap';
import {
  ActorSystem, LinkFullError, type ActorRef, type DeadLetter, type ModuleProps, type RuntimeError,
} from '../../runtime/index.js';
import { eventually, sleep } from './helpers.js';

const FIXTURES = new URL('./fixtures/actors.js', import.meta.url).href;
const props = (name: string, args?: unknown): ModuleProps => ({ module: FIXTURES, export: name, args });

/** Workers that exited, per system: a slow worker must stay alive (not be taken as hung). */
const exits = new Map<ActorSystem, number>();
const LIMITS = { window: 4, maxQueued: 2_000 };
const CAPACITY = 500;

async function pooled(t: Test): Promise<ActorSystem> {
  // A slow handler (0.5 ms) under the default turn budget (16k messages) would hold its thread for
  // seconds and be replaced as unresponsive: these workers yield to I/O every 100 messages. On a
  // loaded machine a busy worker may still miss beats for a while; it is slow, not hung (20 s).
  const sys = await ActorSystem.start({ turnBudget: 100, pool: { workers: 2, statsMs: 10, heartbeatMisses: 80, link: LIMITS } });
  exits.set(sys, 0);
  sys.workers!.onEvent((e) => {
    if (e.type === 'worker-exit') exits.set(sys, (exits.get(sys) ?? 0) + 1);
  });
  t.teardown(() => sys.shutdown(500));
  return sys;
}

/** The slow actor's count, once its mailbox has room for the ask. */
async function handled(ref: ActorRef): Promise<number[]> {
  for (let i = 0; i < 200; i++) {
    const seen = await ref.ask<number[]>('dump', { timeoutMs: 30_000 }).catch((e: RuntimeError) => e);
    if (Array.isArray(seen)) return seen;
    await sleep(20);
  }
  throw new Error('the slow actor never answered');
}

function increasing(xs: number[]): boolean {
  for (let i = 1; i < xs.length; i++) if (xs[i] <= xs[i - 1]) return false;
  return true;
}

t.test('a flood from main to a slow worker stays bounded; every tell is delivered, returned or refused, in order', async (t) => {
  const sys = await pooled(t);
  const hub = sys.workers!.hub;
  const slow = sys.spawn(props('slow', { busyMicros: 500 }), { placement: { worker: 1 }, mailbox: { capacity: CAPACITY } });
  await slow.ask('count');
  const returned: number[] = [];
  sys.onDeadLetter((d: DeadLetter) => {
    if (d.reason === 'mailbox_full') returned.push(d.message as number);
  });
  const N = 20_000;
  let refused = 0;
  let maxDepth = 0;
  let maxMailbox = 0;
  for (let i = 0; i < N; i++) {
    try {
      slow.tell(i);
    } catch (err) {
      if (!(err instanceof LinkFullError)) throw err;
      refused++;
    }
    if (i % 250 === 249) {
      maxDepth = Math.max(maxDepth, hub.queueDepth);
      maxMailbox = Math.max(maxMailbox, sys.metricsSnapshot().hosts[1].mailboxDepth);
      await new Promise((r) => setImmediate(r));
    }
  }
  t.ok(maxDepth <= LIMITS.maxQueued, `link depth stayed within its bound (max ${maxDepth})`);
  t.ok(maxMailbox <= CAPACITY, `the worker's mailbox stayed within its capacity (max ${maxMailbox})`);
  t.ok(returned.length > 0 || refused > 0, `the sender heard of refusals (returned ${returned.length}, refused ${refused})`);
  t.equal(sys.metricsSnapshot().hosts[0].linkRejected, refused, 'refused tells are counted on the sender');
  let seenNow = await handled(slow);
  for (let i = 0; i < 300 && seenNow.length + returned.length + refused < N; i++) {
    await sleep(100);
    seenNow = await handled(slow);
  }
  t.equal(seenNow.length + returned.length + refused, N, 'nothing was lost without a trace');
  t.ok(increasing(seenNow), 'the slow actor saw them in the order sent');
  t.ok(increasing(returned), 'the returned ones came back in order');
  const snap = sys.metricsSnapshot();
  t.equal(snap.hosts[0].rejected, returned.length, 'returned tells are counted on the sender');
  t.ok(await eventually(() => hub.queueDepth === 0), 'the link drained');
  t.equal(exits.get(sys), 0, 'the slow worker stayed alive');
});

t.test('a flood between workers: the sending actor gets a Rejected notice for every tell the full mailbox refused', async (t) => {
  const sys = await pooled(t);
  const slow = sys.spawn(props('slow', { busyMicros: 500 }), { placement: { worker: 1 }, mailbox: { capacity: CAPACITY } });
  const flooder = sys.spawn(props('flooder'), { placement: { worker: 2 }, mailbox: { capacity: 100_000 } });
  await slow.ask('count');
  const N = 10_000;
  t.equal(await flooder.ask({ target: slow, count: N }, { timeoutMs: 60_000 }), 'sent');
  let report = { refused: 0, rejected: [] as number[] };
  let seen: number[] = [];
  let done = false;
  for (let i = 0; i < 300 && !done; i++) {
    report = await flooder.ask<typeof report>('report');
    seen = await handled(slow);
    done = seen.length + report.rejected.length + report.refused === N;
    if (!done) await sleep(100);
  }
  t.ok(done, `delivered ${seen.length} + rejected ${report.rejected.length} + refused ${report.refused} = ${N}`);
  t.ok(report.rejected.length > 0, 'the sender was told of rejections');
  t.ok(increasing(seen), 'order kept for the delivered ones');
  const delivered = new Set(seen);
  t.ok(report.rejected.every((n) => !delivered.has(n)), 'a rejected tell was not also delivered');
  t.equal(exits.get(sys), 0, 'the slow worker stayed alive');
});

t.test('an ask on a full link is refused with OVERLOADED and a retry hint; the link recovers', async (t) => {
  const sys = await pooled(t);
  const slow = sys.spawn(props('slow', { busyMicros: 500 }), { placement: { worker: 1 }, mailbox: { capacity: 100_000 } });
  await slow.ask('count');
  let err: unknown;
  for (let i = 0; i < 100_000 && err === undefined; i++) {
    try {
      slow.tell(i);
    } catch (e) {
      err = e;
    }
  }
  t.match(err, { code: 'OVERLOADED', reason: 'link_full', retryable: true }, 'a tell past the bound throws');
  const refused = await slow.ask('count').catch((e: unknown) => e);
  t.ok(refused instanceof LinkFullError, 'an ask past the bound rejects');
  t.ok((refused as LinkFullError).retryAfterMs > 0, 'with retryAfterMs for the front door');
  t.ok(await eventually(() => sys.workers!.hub.queueDepth === 0, 30_000), 'the link drains');
  t.type(await slow.ask('count', { timeoutMs: 30_000 }), 'number', 'and asks pass again');
  t.equal(exits.get(sys), 0, 'the slow worker stayed alive');
});

t.test('a worker dying mid-flood gives pending asks UNAVAILABLE; the replacement serves', async (t) => {
  const sys = await pooled(t);
  const pool = sys.workers!;
  const slow = sys.spawn(props('slow', { busyMicros: 500 }), { placement: { worker: 1 }, mailbox: { capacity: CAPACITY } });
  const victim = sys.spawn(props('victim'), { placement: { worker: 1 } });
  await slow.ask('count');
  const pending = victim.ask('hang', { timeoutMs: 60_000 }).catch((e: RuntimeError) => e);
  const ready = new Promise<void>((r) => pool.onEvent((e) => { if (e.type === 'worker-ready' && e.host === 1) r(); }));
  let overloaded = 0;
  for (let i = 0; i < 5_000; i++) {
    try {
      slow.tell(i);
    } catch {
      overloaded++;
    }
    if (i === 2_500) t.ok(pool.killWorker(1), 'killed the worker mid-flood');
    if (i % 250 === 249) await new Promise((r) => setImmediate(r));
  }
  t.match(await pending, { code: 'UNAVAILABLE', retryable: true }, 'the ask in flight failed with a retryable UNAVAILABLE');
  await ready;
  t.ok(sys.workers!.hub.queueDepth <= LIMITS.maxQueued, 'what waited for the replacement stayed bounded');
  let first: unknown;
  for (let i = 0; i < 100; i++) {
    // What waited for the replacement drains first; a client retries after retryAfterMs.
    first = await victim.ask('inc', { timeoutMs: 30_000 }).catch((e: unknown) => e);
    if (!(first instanceof LinkFullError)) break;
    await sleep(first.retryAfterMs);
  }
  t.equal(first, 1, 'the replacement serves with fresh state');
  t.comment(`${overloaded} tells refused while the link was full or its host down`);
});
