import t from 'tap';
import {
  isTerminated, type ActorContext, type ActorRef, type Behavior, type SupervisorSpec, type Terminated,
} from '../../runtime/index.js';
import { eventually, newSystem, sleep } from './helpers.js';

/** A child that counts its incarnations and crashes on 'crash'. */
function crashable(starts: Map<string, number>, name: string): () => Behavior<string> {
  return () => {
    starts.set(name, (starts.get(name) ?? 0) + 1);
    let n = 0;
    return {
      receive(msg) {
        if (msg === 'crash') throw new Error(`${name} crashed`);
        if (msg === 'count') return ++n;
        return undefined;
      },
    };
  };
}

/** A parent that spawns children a, b, c in order (its supervision spec is a spawn option). */
function parentWith(starts: Map<string, number>, restart: 'permanent' | 'transient' | 'temporary' = 'permanent') {
  return () => {
    const kids: Record<string, ActorRef<string>> = {};
    return {
      preStart(ctx: ActorContext<string>) {
        for (const name of ['a', 'b', 'c']) kids[name] = ctx.spawn(crashable(starts, name), { restart });
      },
      receive(msg: string) {
        return kids[msg];
      },
    } satisfies Behavior<string>;
  };
}

const loose: Omit<SupervisorSpec, 'strategy'> = { maxRestarts: 100, withinMs: 1_000 };

t.test('a throw in a handler never takes the process down and the actor is restarted', async (t) => {
  const sys = newSystem(t);
  const starts = new Map<string, number>();
  const ref = sys.spawn(crashable(starts, 'x'));
  await ref.ask('count');
  const err = await ref.ask('crash').catch((e: unknown) => e);
  t.match(err, { code: 'INTERNAL', reason: 'actor_failed' }, 'the asker learns of the failure');
  t.equal(await ref.ask('count'), 1, 'state was reset by the restart');
  t.equal(starts.get('x'), 2);
  t.equal(sys.metrics.restarts, 1);
  t.equal(sys.metrics.failures, 1);
});

t.test('one-for-one restarts only the failed child', async (t) => {
  const sys = newSystem(t);
  const starts = new Map<string, number>();
  const p = sys.spawn(parentWith(starts), { supervision: { strategy: 'one-for-one', ...loose } });
  const b = (await p.ask('b')) as ActorRef<string>;
  b.tell('crash');
  await eventually(() => starts.get('b') === 2);
  t.same(Object.fromEntries(starts), { a: 1, b: 2, c: 1 });
});

t.test('one-for-all restarts every sibling', async (t) => {
  const sys = newSystem(t);
  const starts = new Map<string, number>();
  const p = sys.spawn(parentWith(starts), { supervision: { strategy: 'one-for-all', ...loose } });
  ((await p.ask('b')) as ActorRef<string>).tell('crash');
  await eventually(() => starts.get('a') === 2 && starts.get('c') === 2);
  t.same(Object.fromEntries(starts), { a: 2, b: 2, c: 2 });
});

t.test('rest-for-one restarts the failed child and those started after it', async (t) => {
  const sys = newSystem(t);
  const starts = new Map<string, number>();
  const p = sys.spawn(parentWith(starts), { supervision: { strategy: 'rest-for-one', ...loose } });
  ((await p.ask('b')) as ActorRef<string>).tell('crash');
  await eventually(() => starts.get('c') === 2);
  await sleep(5);
  t.same(Object.fromEntries(starts), { a: 1, b: 2, c: 2 });
});

t.test('a temporary child is never restarted', async (t) => {
  const sys = newSystem(t);
  const starts = new Map<string, number>();
  const p = sys.spawn(parentWith(starts, 'temporary'), { supervision: { strategy: 'one-for-one', ...loose } });
  const a = (await p.ask('a')) as ActorRef<string>;
  a.tell('crash');
  await sleep(10);
  t.equal(starts.get('a'), 1);
  t.equal(sys.isAlive(a), false);
});

t.test('a transient child is restarted after a failure but not after stopping itself', async (t) => {
  const sys = newSystem(t);
  let starts = 0;
  const ref = sys.spawn<string>(() => {
    starts++;
    return {
      receive(msg, ctx) {
        if (msg === 'crash') throw new Error('boom');
        if (msg === 'quit') ctx.stop();
      },
    };
  }, { restart: 'transient' });
  ref.tell('crash');
  await eventually(() => starts === 2);
  ref.tell('quit');
  await eventually(() => !sys.isAlive(ref));
  await sleep(5);
  t.equal(starts, 2);
  t.equal(sys.isAlive(ref), false);
});

t.test('a permanent child that stops itself is restarted', async (t) => {
  const sys = newSystem(t);
  let starts = 0;
  const ref = sys.spawn<string>(() => {
    starts++;
    return { receive(_msg, ctx) { ctx.stop(); } };
  }, { restart: 'permanent' });
  ref.tell('quit');
  await eventually(() => starts === 2);
  t.equal(sys.isAlive(ref), true);
});

t.test('exceeding the restart intensity escalates to the parent, which restarts its subtree', async (t) => {
  const sys = newSystem(t);
  const starts = new Map<string, number>();
  let parentStarts = 0;
  const p = sys.spawn<string>(() => {
    parentStarts++;
    return parentWith(starts)();
  }, { supervision: { strategy: 'one-for-one', maxRestarts: 2, withinMs: 10_000 } });
  for (let i = 0; i < 3; i++) {
    const a = (await p.ask('a')) as ActorRef<string>;
    a.tell('crash');
    await eventually(() => (starts.get('a') ?? 0) >= i + 2);
  }
  t.equal(parentStarts, 2, 'the third crash within the window restarted the parent');
  t.equal(sys.metrics.escalations, 1);
});

t.test('escalation past the top stops the actor for good and keeps the process alive', async (t) => {
  const sys = newSystem(t, { guardianSupervision: { strategy: 'one-for-one', maxRestarts: 1, withinMs: 10_000 } });
  const events: string[] = [];
  sys.onEvent((e) => events.push(e.type));
  const ref = sys.spawn<string>(() => ({ receive() { throw new Error('always'); } }));
  ref.tell('1');
  await sleep(5);
  ref.tell('2');
  await eventually(() => !sys.isAlive(ref));
  t.equal(sys.isAlive(ref), false);
  t.ok(events.includes('escalation'));
});

t.test('exponential backoff delays successive restarts', async (t) => {
  const sys = newSystem(t);
  const startedAt: number[] = [];
  const p = sys.spawn<string>(() => {
    let child: ActorRef<string>;
    return {
      preStart(ctx) {
        child = ctx.spawn<string>(() => {
          startedAt.push(Date.now());
          return { receive() { throw new Error('x'); } };
        });
      },
      receive: () => child,
    };
  }, { supervision: { strategy: 'one-for-one', maxRestarts: 10, withinMs: 10_000, backoff: { minMs: 20, maxMs: 200, factor: 2 } } });
  const child = (await p.ask('child')) as ActorRef<string>;
  child.tell('go');
  await eventually(() => startedAt.length === 2);
  child.tell('go');
  await eventually(() => startedAt.length === 3);
  const gap1 = startedAt[1] - startedAt[0];
  const gap2 = startedAt[2] - startedAt[1];
  t.ok(gap1 >= 19, `first restart waited ${gap1} ms (min 20)`);
  t.ok(gap2 >= 39, `second restart waited ${gap2} ms (min 40)`);
});

t.test('lifecycle hooks run in order: preStart, preRestart, preStart + postRestart, postStop', async (t) => {
  const sys = newSystem(t);
  const log: string[] = [];
  let gen = 0;
  const ref = sys.spawn<string>(() => {
    const me = ++gen;
    return {
      preStart() { log.push(`preStart ${me}`); },
      preRestart(_ctx, reason) { log.push(`preRestart ${me} ${(reason as Error).message}`); },
      postRestart() { log.push(`postRestart ${me}`); },
      postStop() { log.push(`postStop ${me}`); },
      receive(msg) { if (msg === 'crash') throw new Error('bad'); },
    };
  });
  ref.tell('crash');
  await eventually(() => gen === 2);
  await sys.stop(ref);
  t.same(log, ['preStart 1', 'preRestart 1 bad', 'preStart 2', 'postRestart 2', 'postStop 2']);
});

t.test('death watch: a watcher receives Terminated when the watched actor stops', async (t) => {
  const sys = newSystem(t);
  const target = sys.spawn(() => ({ receive: () => undefined }));
  const got: Terminated[] = [];
  sys.spawn<unknown>(() => ({
    preStart(ctx) { ctx.watch(target); },
    receive(msg) { if (isTerminated(msg)) got.push(msg); },
  }));
  await sleep(1);
  await sys.stop(target);
  await eventually(() => got.length === 1);
  t.ok(got[0].ref.equals(target));
  t.equal(got[0].reason, 'stopped');
});

t.test('watching an actor that is already gone delivers Terminated at once', async (t) => {
  const sys = newSystem(t);
  const target = sys.spawn(() => ({ receive: () => undefined }));
  await sys.stop(target);
  let got: Terminated | undefined;
  sys.spawn<unknown>(() => ({
    preStart(ctx) { ctx.watch(target); },
    receive(msg) { if (isTerminated(msg)) got = msg; },
  }));
  t.ok(await eventually(() => got !== undefined));
});

t.test('a restarted actor is not reported as terminated', async (t) => {
  const sys = newSystem(t);
  const target = sys.spawn<string>(() => ({ receive() { throw new Error('x'); } }));
  let terminated = 0;
  sys.spawn<unknown>(() => ({ preStart(ctx) { ctx.watch(target); }, receive(msg) { if (isTerminated(msg)) terminated++; } }));
  target.tell('crash');
  await sleep(10);
  t.equal(terminated, 0);
});
