import t from 'tap';
import WebSocket from 'ws';
import { runWsBench } from '../../bench/ws/run.js';
import { gateway, token, wsOptions } from './helpers.js';

t.test('a worker killed mid-load loses no request, and its replacement time is reported', async (t) => {
  const gw = await gateway(t, { TROUPE_ENABLE_FAULTS: '1' });
  const r = await runWsBench(wsOptions(`ws://127.0.0.1:${gw.port}/ws`, {
    // Enough connections that both workers always have runs in flight when one is killed.
    token: await token(), conns: 24, durationMs: 3_000, scenario: 'chat', agent: 'slow', fault: 'worker-kill', faultAtSec: 1.2,
  }));
  const f = r.fault;
  t.ok(f, 'the fault is reported');
  if (f === undefined) return;
  t.equal(f.lost, 0, 'nothing is lost');
  t.equal(f.completed + f.retryable + f.failed + f.lost, r.requests.sent, 'every request is accounted for');
  t.ok(f.retryable > 0, `runs on the killed worker fail retryably (${JSON.stringify(r.errors)})`);
  t.equal(f.failed, 0, 'no run fails for good');
  t.type(f.replacementMs, 'number', 'the replacement came up');
  t.ok(f.completed > 0, 'the rest of the load went on');
  t.equal(r.server.workerReplacements, 1, 'the scrape saw one worker replacement');
});

t.test('admin.fault answers FORBIDDEN when faults are not enabled', async (t) => {
  const gw = await gateway(t);
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/ws?token=${await token()}`);
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  const answer = new Promise<{ ok: boolean; error?: { code: string } }>((r) => ws.on('message', (d) => r(JSON.parse(String(d)) as { ok: boolean })));
  ws.send(JSON.stringify({ type: 'req', id: 1, method: 'admin.fault', params: { kind: 'worker-kill' } }));
  t.match(await answer, { ok: false, error: { code: 'FORBIDDEN' } });
  ws.close();
  t.equal(gw.system.metricsSnapshot().workerReplacements, 0, 'no worker was killed');
});

t.test('--fault against a gateway without faults fails the run with FORBIDDEN', async (t) => {
  const gw = await gateway(t);
  await t.rejects(runWsBench(wsOptions(`ws://127.0.0.1:${gw.port}/ws`, {
    token: await token(), conns: 2, durationMs: 600, fault: 'worker-kill', drainMs: 2_000,
  })), { code: 'FORBIDDEN' });
});

t.test('killWorker replaces the worker and reports how long that took', async (t) => {
  const gw = await gateway(t, { TROUPE_ENABLE_FAULTS: '1' });
  const pool = gw.system.workers;
  if (pool === undefined || pool === null) return t.fail('the gateway has a worker pool');
  const host = pool.hosts[0];
  const ready = new Promise<number | undefined>((resolve) => {
    const off = pool.onEvent((e) => {
      if (e.type === 'worker-ready' && e.host === host) {
        off();
        resolve(e.replacementMs);
      }
    });
  });
  t.equal(pool.killWorker(host), true);
  t.type(await ready, 'number');
  t.equal(pool.killWorker(9_999), false, 'an unknown host is refused');
  t.equal(gw.system.metricsSnapshot().workerReplacements, 1);
});
