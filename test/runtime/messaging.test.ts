import t, { type Test } from 'tap';
import {
  ActorNotFoundError, AskTimeoutError, MailboxFullError, type ActorRef,
} from '../../runtime/index.js';
import { newSystem, sleep } from './helpers.js';

t.test('tell delivers and ask returns the handler result', async (t) => {
  const sys = newSystem(t);
  const seen: number[] = [];
  const ref = sys.spawn<number>(() => ({ receive: (n) => { seen.push(n); return n * 2; } }));
  ref.tell(1);
  t.equal(await ref.ask(21), 42);
  t.same(seen, [1, 21]);
});

t.test('messages are handled one at a time in FIFO order even with async handlers', async (t) => {
  const sys = newSystem(t);
  const log: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const ref = sys.spawn<number>(() => ({
    async receive(n) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      log.push(`start ${n}`);
      await sleep(n % 2 === 0 ? 3 : 0);
      log.push(`end ${n}`);
      inFlight--;
      return n;
    },
  }));
  const replies = await Promise.all([0, 1, 2, 3, 4].map((n) => ref.ask(n)));
  t.same(replies, [0, 1, 2, 3, 4]);
  t.equal(maxInFlight, 1, 'never two handlers at once');
  t.same(log, [0, 1, 2, 3, 4].flatMap((n) => [`start ${n}`, `end ${n}`]));
});

t.test('order is kept per sender to receiver pair', async (t) => {
  const sys = newSystem(t);
  const got: Record<string, number[]> = { a: [], b: [] };
  const sink = sys.spawn<[string, number]>(() => ({ receive: ([who, n]) => { got[who].push(n); } }));
  for (let i = 0; i < 500; i++) {
    sink.tell(['a', i]);
    sink.tell(['b', i]);
  }
  await sink.ask(['a', -1]);
  got.a.pop();
  t.same(got.a, Array.from({ length: 500 }, (_, i) => i));
  t.same(got.b, Array.from({ length: 500 }, (_, i) => i));
});

t.test('an ask that expires rejects with a typed timeout error', async (t) => {
  const sys = newSystem(t);
  const ref = sys.spawn(() => ({ receive: () => new Promise(() => undefined) }));
  const err = await ref.ask('never', { timeoutMs: 30 }).catch((e: unknown) => e);
  t.ok(err instanceof AskTimeoutError);
  t.equal((err as AskTimeoutError).code, 'TIMEOUT');
  t.equal((err as AskTimeoutError).retryable, true);
});

t.test('deferReply answers an ask after the handler returns', async (t) => {
  const sys = newSystem(t);
  const ref = sys.spawn<string>(() => ({
    receive(_msg, ctx) {
      const r = ctx.deferReply();
      setTimeout(() => r?.resolve('later'), 5);
    },
  }));
  t.equal(await ref.ask('x'), 'later');
});

t.test('a message to a stopped actor becomes a counted, observable dead letter', async (t) => {
  const sys = newSystem(t);
  const ref = sys.spawn(() => ({ receive: () => undefined }));
  await sys.stop(ref);
  const observed: unknown[] = [];
  sys.onDeadLetter((d) => observed.push(d.message));
  const before = sys.metrics.deadLetters;
  ref.tell('lost?');
  t.equal(sys.metrics.deadLetters, before + 1);
  t.same(observed, ['lost?']);
  t.equal(sys.deadLetters().at(-1)?.message, 'lost?');
  const err = await ref.ask('q').catch((e: unknown) => e);
  t.ok(err instanceof ActorNotFoundError, 'an ask to a stopped actor rejects at once');
});

t.test('mail left when an actor stops becomes dead letters, and pending asks reject', async (t) => {
  const sys = newSystem(t);
  let release!: () => void;
  const ref = sys.spawn<string>(() => ({ receive: () => new Promise<void>((r) => (release = r)) }));
  ref.tell('busy');
  const queued = ref.ask('queued');
  ref.tell('queued tell');
  await sleep(1);
  const stopped = sys.stop(ref);
  release();
  await stopped;
  t.ok((await queued.catch((e: unknown) => e)) instanceof ActorNotFoundError);
  t.equal(sys.metrics.deadLetters, 2);
});

function mailboxActor(t: Test, overflow: 'reject' | 'drop-oldest' | 'drop-newest') {
  const sys = newSystem(t);
  const seen: number[] = [];
  let gate!: () => void;
  const blocked = new Promise<void>((r) => (gate = r));
  const ref = sys.spawn<number>(() => ({
    async receive(n) {
      if (n === 0) await blocked;
      seen.push(n);
    },
  }), { mailbox: { capacity: 3, overflow } });
  return { sys, ref, seen, gate };
}
t.test('reject policy: a full mailbox rejects tells and asks with MailboxFull and counts the drop', async (t) => {
  const { sys, ref, seen, gate } = mailboxActor(t, 'reject');
  ref.tell(0);
  await sleep(1); // 0 is being handled; the mailbox is empty
  ref.tell(1); ref.tell(2); ref.tell(3);
  t.throws(() => ref.tell(4), MailboxFullError);
  const err = await ref.ask(5).catch((e: unknown) => e);
  t.ok(err instanceof MailboxFullError);
  t.equal((err as MailboxFullError).code, 'OVERLOADED');
  t.equal(sys.metrics.dropped, 2);
  gate();
  await sleep(5); // let the backlog drain before asking again
  await ref.ask(6);
  t.same(seen, [0, 1, 2, 3, 6]);
});

t.test('drop-oldest policy keeps the newest messages and counts drops', async (t) => {
  const { sys, ref, seen, gate } = mailboxActor(t, 'drop-oldest');
  ref.tell(0);
  await sleep(1);
  for (let i = 1; i <= 6; i++) ref.tell(i);
  t.equal(sys.metrics.dropped, 3);
  gate();
  await sleep(5);
  t.same(seen, [0, 4, 5, 6]);
});

t.test('drop-newest policy keeps the oldest messages and counts drops', async (t) => {
  const { sys, ref, seen, gate } = mailboxActor(t, 'drop-newest');
  ref.tell(0);
  await sleep(1);
  for (let i = 1; i <= 6; i++) ref.tell(i);
  t.equal(sys.metrics.dropped, 3);
  gate();
  await sleep(5);
  t.same(seen, [0, 1, 2, 3]);
});

t.test('named actors can be looked up, and the name is freed when they stop', async (t) => {
  const sys = newSystem(t);
  const ref = sys.spawn(() => ({ receive: () => 'hi' }), { name: 'greeter' });
  const found = sys.lookup('greeter') as ActorRef;
  t.ok(found.equals(ref));
  t.equal(await found.ask('x'), 'hi');
  t.throws(() => sys.spawn(() => ({ receive: () => 1 }), { name: 'greeter' }), /already exists/);
  await sys.stop(ref);
  t.equal(sys.lookup('greeter'), undefined);
});

t.test('refs serialise to plain data and back', async (t) => {
  const sys = newSystem(t);
  const ref = sys.spawn(() => ({ receive: () => 'pong' }));
  const data = JSON.parse(JSON.stringify(ref)) as { host: number; id: number };
  t.same(data, { host: 0, id: ref.id });
  t.equal(await sys.refFor(data.host, data.id).ask('ping'), 'pong');
});
