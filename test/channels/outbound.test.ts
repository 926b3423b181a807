// The outbound queue's lanes and its best-effort `hint` (typing…): a hint is
// made only when the chat's lane is idle and the bot has room, and it never
// takes the slot the chat's next message needs. A gap of 100 s per chat (or
// per bot) stands for "would be held back": a call that waited for it would
// never finish inside the test.
import t from 'tap';
import { ChannelSendError } from '../../transports/channels/adapter.js';
import { OutboundQueue } from '../../transports/channels/outbound.js';

const SLOW = 0.01; // one call per 100 s

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

t.test('a hint on an idle chat is made, and the chat\'s next message is not held back by it', async (t) => {
  const q = new OutboundQueue({ perChatPerSecond: SLOW, perBotPerSecond: 1000 });
  const calls: string[] = [];
  t.equal(await q.hint('a', async () => void calls.push('typing')), true);
  t.equal(await q.run('a', 'send', async () => calls.push('send')), 2, 'the send started at once, in no slot of the hint\'s');
  t.same(calls, ['typing', 'send']);
});

t.test('a hint is skipped while the chat has a call queued or in flight', async (t) => {
  const q = new OutboundQueue({ perChatPerSecond: 1000, perBotPerSecond: 1000 });
  const gate = deferred();
  let typed = 0;
  const sending = q.run('a', 'send', () => gate.promise);
  t.equal(await q.hint('a', async () => void typed++), false, 'skipped: a reply is on its way');
  t.equal(await q.hint('b', async () => void typed++), true, 'another chat is idle');
  gate.resolve();
  await sending;
  await new Promise((resolve) => setImmediate(resolve)); // the lane is emptied just after its last call settles
  t.equal(await q.hint('a', async () => void typed++), true, 'made again once the lane is empty');
  t.equal(typed, 2);
});

t.test('a hint is skipped while the bot is at its limit', async (t) => {
  const stop = new AbortController();
  t.teardown(() => stop.abort()); // ends the call left waiting for the bot
  const q = new OutboundQueue({ perChatPerSecond: 1000, perBotPerSecond: SLOW, signal: stop.signal });
  await q.run('a', 'send', async () => undefined); // the bot's next slot is 100 s away: one gap, still room
  let typed = 0;
  t.equal(await q.hint('b', async () => void typed++), true, 'one call just made leaves the bot room');
  const waiting = q.run('c', 'send', async () => undefined); // waits 100 s for the bot's slot
  waiting.catch(() => undefined);
  await new Promise((resolve) => setImmediate(resolve)); // it has taken its slot
  t.equal(await q.hint('d', async () => void typed++), false, 'a call waiting for the bot: no hint');
  t.equal(typed, 1);
});

t.test('a failed hint is neither retried nor reported, and a stopped queue makes none', async (t) => {
  const gaveUp: string[] = [];
  const stop = new AbortController();
  const q = new OutboundQueue({ perChatPerSecond: 1000, perBotPerSecond: 1000, signal: stop.signal, onGiveUp: (op) => gaveUp.push(op) });
  let tries = 0;
  t.equal(await q.hint('a', async () => {
    tries++;
    throw new ChannelSendError('busy', 429, 10);
  }), false);
  t.equal(tries, 1, 'one try');
  t.same(gaveUp, [], 'nothing audited for a hint');
  stop.abort();
  t.equal(await q.hint('a', async () => void tries++), false);
  t.equal(tries, 1);
});

t.test('calls in one chat keep their order; a 429 is retried after its retry_after', async (t) => {
  const retries: string[] = [];
  const q = new OutboundQueue({ perChatPerSecond: 1000, perBotPerSecond: 1000, onRetry: (op, reason) => retries.push(`${op}:${reason}`) });
  const order: string[] = [];
  let first = true;
  await Promise.all([
    q.run('a', 'send', async () => {
      if (first) {
        first = false;
        throw new ChannelSendError('slow down', 429, 5);
      }
      order.push('one');
    }),
    q.run('a', 'send', async () => void order.push('two')),
  ]);
  t.same(order, ['one', 'two']);
  t.same(retries, ['send:rate_limited']);
  t.equal(q.queued, 0, 'nothing left queued');
});
