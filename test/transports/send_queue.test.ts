import t from 'tap';
import { SendQueue, type BackpressuredSocket } from '../../transports/send_queue.js';

/** A socket whose kernel never takes anything: every byte stays "buffered" until drained by hand. */
class StuckSocket implements BackpressuredSocket {
  buffered = 0;
  sent: string[] = [];
  send(message: string | Uint8Array): number {
    this.sent.push(String(message));
    this.buffered += typeof message === 'string' ? message.length : message.byteLength;
    return 0;
  }
  getBufferedAmount(): number {
    return this.buffered;
  }
}

const limits = { maxBufferedBytes: 10, maxQueuedBytes: 20, stallMs: 60_000 };

t.test('frames go straight to the socket while its buffer is under the limit', async (t) => {
  const sock = new StuckSocket();
  const q = new SendQueue(sock, false, limits, () => t.fail('not slow'));
  t.equal(q.push('12345'), true);
  t.equal(q.push('67890'), true);
  t.same(sock.sent, ['12345', '67890']);
  t.equal(q.queuedBytes, 0);
  q.close();
});

t.test('past the buffer limit frames queue, and drain sends them in order', async (t) => {
  const sock = new StuckSocket();
  const q = new SendQueue(sock, false, limits, () => t.fail('not slow'));
  q.push('0123456789');
  q.push('abc');
  q.push('def');
  t.same(sock.sent, ['0123456789']);
  t.equal(q.queuedBytes, 6);
  sock.buffered = 0;
  q.drain();
  t.same(sock.sent, ['0123456789', 'abc', 'def']);
  t.equal(q.queuedBytes, 0);
  q.close();
});

t.test('overflowing the queue declares the consumer slow once and drops the queue', async (t) => {
  const sock = new StuckSocket();
  let slow = 0;
  let gauge = 0;
  const q = new SendQueue(sock, false, limits, () => slow++, (d) => { gauge += d; });
  q.push('0123456789');
  for (let i = 0; i < 10; i++) q.push('xxxxx');
  t.equal(slow, 1);
  t.equal(q.queuedBytes, 0);
  t.equal(gauge, 0, 'the gauge was given back every byte');
  t.equal(q.push('more'), false, 'pushes after that are refused');
});

t.test('a queue that makes no progress for stallMs declares the consumer slow', async (t) => {
  const sock = new StuckSocket();
  const q = new SendQueue(sock, false, { ...limits, stallMs: 30 }, () => {
    t.pass('slow after stalling');
  });
  q.push('0123456789');
  q.push('a');
  t.plan(1);
  await new Promise((r) => setTimeout(r, 80));
});
