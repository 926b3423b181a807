import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import t, { type Test } from 'tap';
import { runHttpBench } from '../../bench/http/run.js';
import { PacedConnections, runPaced, type PacedOptions, type PacedOutcome } from '../../bench/http/paced.js';
import { validateResult } from '../../bench/report/result.js';

const COMPLETION = JSON.stringify({ object: 'chat.completion', choices: [{ message: { role: 'assistant', content: 'hi' } }] });

/** A local server; `answer` decides, per request number (from 0), when to reply. */
async function server(t: Test, answer: (n: number, reply: () => void) => void = (_n, reply) => reply()) {
  let received = 0;
  const srv = createServer((req: IncomingMessage, res: ServerResponse) => {
    const n = received++;
    req.resume();
    req.on('end', () => answer(n, () => res.writeHead(200, { 'content-type': 'application/json' }).end(COMPLETION)));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => {
    srv.closeAllConnections();
    srv.close(() => r());
  }));
  return { origin: `http://127.0.0.1:${(srv.address() as { port: number }).port}`, received: () => received };
}

async function paced(t: Test, origin: string, conns: number, o: Omit<PacedOptions, 'onOutcome' | 'request'>) {
  const pool = new PacedConnections(origin, conns);
  t.teardown(() => pool.close());
  const outcomes: PacedOutcome[] = [];
  const summary = await runPaced(pool, { ...o, request: { method: 'POST', path: '/', headers: {}, body: '{}' }, onOutcome: (x) => outcomes.push(x) });
  outcomes.sort((a, b) => a.index - b.index);
  return { summary, outcomes };
}

t.test('arrivals are due every 1000/rate ms and none goes out before it is due', async (t) => {
  const srv = await server(t);
  // a connection per arrival: none can find every connection busy
  const { summary, outcomes } = await paced(t, srv.origin, 200, { rate: 400, count: 200, timeoutMs: 30_000 });
  t.equal(outcomes.length, 200);
  t.same(outcomes.map((o) => o.index), Array.from({ length: 200 }, (_, i) => i), 'one outcome per arrival');
  t.equal(srv.received(), 200);
  t.equal(summary.sent, 200);
  t.equal(summary.late, 0);
  t.equal(summary.expired, 0);
  const t0 = outcomes[0].scheduledAt;
  t.ok(outcomes.every((o, i) => Math.abs(o.scheduledAt - t0 - i * 2.5) < 1e-6), 'scheduled 2.5 ms apart');
  t.ok(outcomes.every((o) => o.sentAt >= o.scheduledAt), 'never sent before it was due (no bursts)');
  t.ok(outcomes.every((o) => o.status === 200 && o.body === COMPLETION && o.error === undefined && !o.late));
  t.equal(summary.sendLag.totalCount, 200);
  summary.sendLag.destroy();
});

t.test('an arrival that finds every connection busy waits, is counted late, and keeps its scheduled time', async (t) => {
  // the only connection's first answer is held 50 ms: arrivals due at 2.5 … 25 ms cannot go out on time
  const srv = await server(t, (n, reply) => (n === 0 ? setTimeout(reply, 50) : reply()));
  const { summary, outcomes } = await paced(t, srv.origin, 1, { rate: 400, count: 40, timeoutMs: 30_000 });
  t.equal(outcomes.length, 40);
  t.equal(srv.received(), 40, 'every arrival was sent in the end');
  t.ok(summary.late >= 10, `late ${summary.late}`);
  t.ok(summary.maxBacklog >= 10, `backlog ${summary.maxBacklog}`);
  for (const o of outcomes.slice(1, 11)) {
    t.ok(o.late, `arrival ${o.index} is late`);
    t.ok(o.sentAt >= outcomes[0].endAt, `arrival ${o.index} went out once the connection was free`);
  }
  t.ok(outcomes.every((o, i) => i === 0 || o.sentAt >= outcomes[i - 1].sentAt), 'the backlog is served oldest first');
  summary.sendLag.destroy();
});

t.test('arrivals that wait in the backlog longer than the timeout expire unsent', async (t) => {
  const srv = await server(t, () => undefined);
  const { summary, outcomes } = await paced(t, srv.origin, 1, { rate: 400, count: 20, timeoutMs: 100 });
  t.equal(outcomes.length, 20);
  t.ok(outcomes.every((o) => o.error === 'timeout' && o.status === 0), 'every arrival timed out');
  t.ok(summary.expired > 0, `expired ${summary.expired}`);
  t.equal(summary.sent + summary.expired, 20);
  t.equal(srv.received(), summary.sent);
  summary.sendLag.destroy();
});

t.test('bench http --rate runs the paced client: exactly rate × duration arrivals, latency from the scheduled time', async (t) => {
  const srv = await server(t, (n, reply) => (n === 50 ? setTimeout(reply, 50) : reply()));
  const r = await runHttpBench({
    url: srv.origin, path: '/v1/chat/completions', conns: 1, durationMs: 500, warmupMs: 125, rate: 400, stream: false, payload: 0,
    model: 'm', timeoutSec: 30, soak: false, leakThresholdBytes: 0, metricsUrl: '',
  });
  t.same(validateResult(r), []);
  t.equal(r.settings.client, 'paced');
  t.equal(r.requests.warmup, 50);
  t.equal(r.requests.sent, 200);
  t.equal(r.requests.completed, 200);
  t.equal(srv.received(), 250);
  t.ok(Number(r.settings.late) >= 10, `late ${r.settings.late}`);
  // the held answer (the measured window's first) delays ten more arrivals by 25 ms or more from when they were due
  t.ok(r.latency.p99 >= 25, `p99 ${r.latency.p99}`);
  t.ok(Number(r.settings.serviceP50Ms) <= r.latency.p50 && Number(r.settings.serviceP99Ms) <= r.latency.p99,
    'from the send, each answer took no longer than from its scheduled time');
  t.equal(r.latency.count, 200);
});
