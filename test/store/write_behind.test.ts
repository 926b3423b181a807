import t from 'tap';
import { WriteBehindQueue } from '../../store/index.js';

/** A recording sink; `failures` makes the next N writes throw. */
function sink(failures = 0) {
  const batches: number[][] = [];
  let left = failures;
  return {
    batches,
    written: () => batches.flat(),
    write: async (batch: number[]) => {
      if (left > 0) {
        left--;
        throw new Error('database unavailable');
      }
      batches.push([...batch]);
    },
  };
}

t.test('enqueue returns at once and nothing is written before the flush interval', async (t) => {
  const s = sink();
  const q = new WriteBehindQueue<number>({ write: s.write, flushIntervalMs: 60_000 });
  t.equal(q.enqueue(1), true);
  await new Promise((r) => setImmediate(r));
  t.same(s.written(), []);
  t.equal(q.stats().pending, 1);
  await q.close();
  t.same(s.written(), [1]);
});

t.test('a timer flushes a partial batch after flushIntervalMs', async (t) => {
  const s = sink();
  const q = new WriteBehindQueue<number>({ write: s.write, flushIntervalMs: 5, batchSize: 100 });
  q.enqueue(1);
  q.enqueue(2);
  for (let i = 0; i < 200 && s.written().length < 2; i++) await new Promise((r) => setTimeout(r, 5));
  t.same(s.written(), [1, 2]);
  await q.close();
});

t.test('writes go out in order, in batches of at most batchSize', async (t) => {
  const s = sink();
  const q = new WriteBehindQueue<number>({ write: s.write, batchSize: 4, flushIntervalMs: 60_000 });
  for (let i = 0; i < 10; i++) q.enqueue(i);
  await q.flush();
  t.same(s.written(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.ok(s.batches.every((b) => b.length <= 4));
  t.equal(q.stats().batches, s.batches.length);
  await q.close();
});

t.test('graceful close writes everything enqueued, so nothing is lost', async (t) => {
  const s = sink();
  const q = new WriteBehindQueue<number>({ write: s.write, batchSize: 7, flushIntervalMs: 60_000 });
  for (let i = 0; i < 50; i++) q.enqueue(i);
  await q.close();
  t.equal(s.written().length, 50);
  t.match(q.stats(), { enqueued: 50, written: 50, pending: 0, inFlight: 0, failed: 0 });
});

t.test('after close new items are refused and counted', async (t) => {
  const q = new WriteBehindQueue<number>({ write: sink().write });
  await q.close();
  t.equal(q.enqueue(1), false);
  t.equal(q.stats().rejected, 1);
});

t.test('a full queue under the reject policy refuses new items and counts them', async (t) => {
  const s = sink();
  const q = new WriteBehindQueue<number>({ write: s.write, maxItems: 3, batchSize: 10, flushIntervalMs: 60_000 });
  const accepted = [1, 2, 3, 4, 5].map((i) => q.enqueue(i));
  t.same(accepted, [true, true, true, false, false]);
  t.match(q.stats(), { rejected: 2, dropped: 0, pending: 3 });
  await q.close();
  t.same(s.written(), [1, 2, 3]);
});

t.test('a full queue under drop-oldest keeps the newest items and counts the dropped', async (t) => {
  const s = sink();
  const q = new WriteBehindQueue<number>({
    write: s.write, maxItems: 3, batchSize: 10, flushIntervalMs: 60_000, overflow: 'drop-oldest',
  });
  for (let i = 1; i <= 5; i++) t.equal(q.enqueue(i), true);
  t.match(q.stats(), { dropped: 2, rejected: 0, pending: 3 });
  await q.close();
  t.same(s.written(), [3, 4, 5]);
});

t.test('a failing write is retried and then succeeds without loss or duplicates', async (t) => {
  const s = sink(2);
  const q = new WriteBehindQueue<number>({ write: s.write, maxRetries: 3, retryDelayMs: 1 });
  q.enqueue(1);
  q.enqueue(2);
  await q.flush();
  t.same(s.written(), [1, 2]);
  t.equal(q.stats().failed, 0);
  await q.close();
});

t.test('a write failing past its retries is counted, reported, and fails the flush', async (t) => {
  const s = sink(100);
  const reported: number[][] = [];
  const q = new WriteBehindQueue<number>({
    write: s.write, maxRetries: 1, retryDelayMs: 1, onError: (_e, batch) => reported.push([...batch]),
  });
  q.enqueue(7);
  await t.rejects(q.flush(), { code: 'UNAVAILABLE' });
  t.same(reported, [[7]]);
  t.match(q.stats(), { failed: 1, written: 0, pending: 0 });
});

t.test('a hard crash loses only what was still queued, which stats report', async (t) => {
  const s = sink();
  const q = new WriteBehindQueue<number>({ write: s.write, batchSize: 5, flushIntervalMs: 60_000, maxItems: 100 });
  for (let i = 0; i < 10; i++) q.enqueue(i);
  await q.flush();
  for (let i = 10; i < 13; i++) q.enqueue(i);
  // "Crash": the process stops here without flush(); whatever is pending is gone.
  const atCrash = q.stats();
  t.equal(s.written().length, 10);
  t.equal(atCrash.pending + atCrash.inFlight, 3);
  t.ok(atCrash.pending <= 100, 'loss is bounded by maxItems');
  await q.close();
});

t.test('invalid options are refused with INVALID_REQUEST', async (t) => {
  t.throws(() => new WriteBehindQueue<number>({ write: sink().write, maxItems: 0 }), { code: 'INVALID_REQUEST' });
  t.throws(() => new WriteBehindQueue<number>({ write: sink().write, batchSize: 1.5 }), { code: 'INVALID_REQUEST' });
});
