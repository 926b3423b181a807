// `troupe bench channel --rate`: an open loop faster than one chat is answered fills the channel's per-chat
// queue, and the channel says "still answering" to what is beyond it. The node harness counts those as busy,
// not lost, and times the answered ones against their own webhooks.
import t from 'tap';
import { runChannelBench } from '../../bench/channel/run.js';

t.test('webhooks refused by a full per-chat queue are counted busy, not lost; every other one is answered', async (t) => {
  // One chat at 400 webhooks/s: far more than one session answers in turn.
  const r = await runChannelBench({ platform: 'telegram', conns: 1, rate: 400, durationMs: 1_000, warmupMs: 0, drainMs: 20_000, ws: false });
  const c = r.channel;
  t.ok(c.busy > 0, `the channel refused some as still answering (${c.busy} of ${c.sent})`);
  t.ok(c.completed > 0, `and answered the others (${c.completed})`);
  t.equal(c.lost, 0, 'none is counted lost');
  t.equal(c.completed + c.busy, c.sent, 'every webhook sent in the window is either answered or refused');
  t.equal(c.duplicated, 0);
  t.equal(c.latency.count, c.completed, 'one latency per answered webhook');
});
