import t from 'tap';
import { validateResult } from '../../bench/report/result.js';
import { runWsBench } from '../../bench/ws/run.js';
import { countingServer, gateway, token, wsOptions } from './helpers.js';

t.test('every request sent is counted exactly once, warm-up apart', async (t) => {
  const srv = await countingServer(t);
  const r = await runWsBench(wsOptions(srv.url, { conns: 5, durationMs: 600, warmupMs: 300, echo: true, metricsUrl: '' }));
  t.equal(srv.counts.connect, 5, 'one connect per connection');
  t.equal(r.requests.sent + r.requests.warmup, srv.counts.ping, 'sent + warm-up = what the server received');
  t.ok(r.requests.warmup > 0, 'warm-up requests are kept apart');
  t.equal(r.requests.completed, r.requests.sent, 'an echo answers everything');
  t.equal(r.latency.count, r.requests.completed, 'the histogram holds exactly the completed requests');
  t.same(validateResult(r), []);
});

t.test('answers that do not verify are errors, never completions', async (t) => {
  // answers with the wrong id: the client must not count them
  const srv = await countingServer(t, (f) => (f.method === 'connect'
    ? { type: 'res', id: f.id, ok: true, payload: { protocol: 1 } }
    : { type: 'res', id: 999_999, ok: true, payload: { pong: true } }));
  const r = await runWsBench(wsOptions(srv.url, { conns: 2, durationMs: 300, drainMs: 200, metricsUrl: '' }));
  t.equal(r.requests.completed, 0);
  t.equal(r.requests.lost, r.requests.sent, 'unanswered requests are lost');
  t.ok((r.errors.bad_frame ?? 0) > 0, 'mismatched frames are reported');
});

t.test('ping and chat against a gateway verify every answer and scrape its metrics', async (t) => {
  const gw = await gateway(t);
  const url = `ws://127.0.0.1:${gw.port}/ws`;
  const tok = await token();
  const ping = await runWsBench(wsOptions(url, { token: tok, conns: 4, durationMs: 1_500 }));
  t.ok(ping.requests.completed > 0);
  t.equal(ping.requests.failed + ping.requests.lost + ping.requests.retryable, 0, JSON.stringify(ping.errors));
  t.ok((ping.server.rssPeakBytes ?? 0) > 0, 'server RSS was sampled from /metrics');
  const chat = await runWsBench(wsOptions(url, { token: tok, conns: 3, durationMs: 1_000, scenario: 'chat', agent: 'fast' }));
  t.ok(chat.requests.completed > 0);
  t.equal(chat.requests.completed, chat.requests.sent, JSON.stringify(chat.errors));
  t.ok((chat.ttft?.count ?? 0) > 0, 'time to first token is measured');
  t.same(validateResult(chat), []);
});

t.test('idle connections report server RSS growth per authenticated connection', async (t) => {
  const gw = await gateway(t);
  const r = await runWsBench(wsOptions(`ws://127.0.0.1:${gw.port}/ws`, { token: await token(), conns: 30, scenario: 'idle', durationMs: 1_500 }));
  t.equal(r.connections.opened, 30);
  t.equal(r.connections.connectLatency?.count, 30, 'every connect was answered');
  t.type(r.server.rssPerConnBytes, 'number');
  t.ok(r.server.samples.some((s) => s.phase === 'setup') && r.server.samples.some((s) => s.phase === 'measure'), 'RSS before and during');
});
