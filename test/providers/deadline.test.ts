import t from 'tap';
import { RequestDeadline } from '../../providers/deadline.js';

t.test('dispose aborts an exchange that was not read to its end', async (t) => {
  const deadline = new RequestDeadline(undefined, 60_000);
  deadline.dispose();
  t.ok(deadline.signal.aborted, 'the connection of a walked-away response is closed');
  t.notOk(deadline.timedOut);
});

t.test('dispose leaves a finished exchange alone', async (t) => {
  const deadline = new RequestDeadline(undefined, 60_000);
  deadline.finished();
  deadline.dispose();
  t.notOk(deadline.signal.aborted, 'nothing to close: no abort, no Error made');
});

t.test("the caller's abort reaches the signal until dispose, not after", async (t) => {
  const outer = new AbortController();
  const deadline = new RequestDeadline(outer.signal, 60_000);
  deadline.finished();
  deadline.dispose();
  outer.abort();
  t.notOk(deadline.signal.aborted, 'the listener on the caller went with dispose');
  const live = new AbortController();
  const d2 = new RequestDeadline(live.signal, 60_000);
  live.abort(new Error('stop'));
  t.ok(d2.signal.aborted);
  t.notOk(d2.timedOut, 'an abort by the caller is not a timeout');
  d2.dispose();
});
