import t from 'tap';
import { ActorSystem } from '../../runtime/index.js';
import { eventually, newSystem, sleep } from './helpers.js';

t.test('a flooding actor does not starve its neighbours on the same host', async (t) => {
  const throughput = 16;
  const sys = newSystem(t, { throughput, defaultMailboxCapacity: 200_000 });
  const order: string[] = [];
  const flooder = sys.spawn<number>(() => ({ receive: (n) => { order.push(`f${n}`); } }));
  const neighbour = sys.spawn<number>(() => ({ receive: (n) => { order.push(`n${n}`); } }));
  for (let i = 0; i < 100_000; i++) flooder.tell(i);
  neighbour.tell(1);
  await neighbour.ask(2);
  const firstNeighbour = order.indexOf('n1');
  t.ok(firstNeighbour >= 0);
  t.ok(firstNeighbour <= throughput, `neighbour ran after ${firstNeighbour} flood messages (at most ${throughput})`);
  await eventually(() => order.length === 100_002);
});

t.test('a long backlog yields to timers and I/O between turns', async (t) => {
  const sys = newSystem(t, { turnBudget: 1_000, defaultMailboxCapacity: 500_000 });
  let handled = 0;
  const busy = sys.spawn<number>(() => ({ receive: () => { handled++; } }));
  for (let i = 0; i < 300_000; i++) busy.tell(i);
  let timerFiredAt = -1;
  setTimeout(() => { timerFiredAt = handled; }, 0);
  await eventually(() => handled === 300_000, 10_000);
  t.ok(timerFiredAt >= 0 && timerFiredAt < 300_000, `timer ran with ${timerFiredAt} of 300000 handled`);
});

t.test('graceful shutdown drains mailboxes, stops actors in reverse start order and does not hang', async (t) => {
  const sys = new ActorSystem();
  const stopped: string[] = [];
  let handled = 0;
  for (const name of ['first', 'second', 'third']) {
    const ref = sys.spawn<number>(() => ({
      async receive() { await sleep(1); handled++; },
      postStop() { stopped.push(name); },
    }));
    for (let i = 0; i < 5; i++) ref.tell(i);
  }
  await sys.shutdown(2_000);
  t.equal(handled, 15, 'queued mail was handled before stopping');
  t.same(stopped, ['third', 'second', 'first']);
  t.equal(sys.size, 0);
});

t.test('shutdown gives up draining at the deadline and rejects what is left', async (t) => {
  const sys = new ActorSystem();
  const stuck = sys.spawn<string>(() => ({ receive: () => new Promise(() => undefined) }));
  stuck.tell('hang');
  const pending = stuck.ask('after', { timeoutMs: 60_000 });
  const started = Date.now();
  await sys.shutdown(100);
  t.ok(Date.now() - started < 2_000, 'shutdown returned near its deadline');
  const err = await pending.catch((e: unknown) => e);
  t.match(err, { code: /NOT_FOUND|UNAVAILABLE/ });
});

t.test('children stop before their parent', async (t) => {
  const sys = newSystem(t);
  const stopped: string[] = [];
  const parent = sys.spawn<string>(() => ({
    preStart(ctx) {
      ctx.spawn(() => ({ receive: () => undefined, postStop: () => { stopped.push('child1'); } }));
      ctx.spawn(() => ({ receive: () => undefined, postStop: () => { stopped.push('child2'); } }));
    },
    receive: () => undefined,
    postStop: () => { stopped.push('parent'); },
  }));
  await sleep(1);
  await sys.stop(parent);
  t.same(stopped, ['child2', 'child1', 'parent']);
});
