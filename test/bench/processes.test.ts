import t from 'tap';
import { runWsBench } from '../../bench/ws/run.js';
import { countingServer, wsOptions } from './helpers.js';

t.test('a run spread over child processes merges their counts and histograms exactly', async (t) => {
  const srv = await countingServer(t);
  const r = await runWsBench(wsOptions(srv.url, { conns: 6, procs: 2, durationMs: 800, warmupMs: 200, echo: true, metricsUrl: '' }));
  t.equal(r.client.processes, 2);
  t.equal(r.connections.opened, 6);
  t.equal(srv.counts.connect, 6);
  t.equal(r.requests.sent + r.requests.warmup, srv.counts.ping, 'both processes\' requests are all counted');
  t.equal(r.latency.count, r.requests.completed, 'the merged histogram holds every completion of both');
  t.equal(r.timeline.reduce((a, p) => a + p.rps * 0, 0), 0);
  t.ok(r.timeline.length > 0);
});
