import t from 'tap';
import { Client, start, within } from './harness.js';

t.test('/health reports the native engine, uptime and backend details', async (t) => {
  const s = await start(t);
  const res = await fetch(`${s.httpUrl}/health`);
  t.equal(res.status, 200);
  t.match(await res.json(), { status: 'ok', engine: 'native', uptimeMs: Number, connections: 0, backend: { actors: 'ok' } });
  t.equal(s.fd.engine, 'native');
});

t.test('/ready is 200 when the backend is ready and 503 when it is not', async (t) => {
  const s = await start(t);
  t.equal((await fetch(`${s.httpUrl}/ready`)).status, 200);
  s.backend.isReady = false;
  const res = await fetch(`${s.httpUrl}/ready`);
  t.equal(res.status, 503);
  t.match(await res.json(), { ready: false, reason: 'backend_not_ready' });
});

t.test('/metrics serves the registry with gateway metric names', async (t) => {
  const s = await start(t);
  const c = await Client.connected(s.wsUrl);
  await c.request('chat.send', { message: 'hi' });
  await c.waitFor((f) => f.event === 'chat.final', 'final');
  await c.request('nope');
  const res = await fetch(`${s.httpUrl}/metrics`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /text\/plain/);
  const text = await res.text();
  for (const name of [
    'troupe_ws_connections 1',
    'troupe_ws_frames_in_total{protocol="json"} 3',
    'troupe_ws_frames_out_total{protocol="json"}',
    'troupe_request_duration_seconds_bucket{le="0.001",transport="ws",method="chat.send"}',
    'troupe_chat_turn_duration_seconds_count{transport="ws"} 1',
    'troupe_chat_time_to_first_token_seconds_count{transport="ws"} 1',
    'troupe_chat_tokens_total{direction="output"} 3',
    'troupe_errors_total{transport="ws",code="INVALID_REQUEST"} 1',
    'troupe_rate_limited_total',
    'troupe_ws_slow_consumer_closes_total 0',
    'troupe_ws_send_queue_bytes 0',
    'troupe_chat_runs_in_flight 0',
  ]) t.ok(text.includes(name), name);
  c.close();
});

t.test('unknown paths are 404 NOT_FOUND in the error shape', async (t) => {
  const s = await start(t);
  const res = await fetch(`${s.httpUrl}/v2/nothing`);
  t.equal(res.status, 404);
  t.match(await res.json(), { error: { code: 'NOT_FOUND' } });
});

t.test('shutdown sends a shutdown event, lets the in-flight run finish, then closes 1001', async (t) => {
  const s = await start(t, { config: { shutdownDeadlineMs: 5000 } });
  s.backend.deltaCount = 10;
  s.backend.delayMs = 20;
  const c = await Client.connected(s.wsUrl);
  await c.request('chat.send', { message: 'drain me' });
  const done = s.fd.shutdown();
  const shutdownEvent = await c.waitFor((f) => f.event === 'shutdown', 'shutdown event');
  t.match(shutdownEvent.payload, { reason: String, deadlineMs: 5000 });
  const closed = await within(c.closed, 5000, 'close after drain');
  t.equal(closed.code, 1001);
  const final = c.frames.find((f) => f.event === 'chat.final');
  t.ok(final, 'the in-flight run finished before the close');
  t.ok(c.frames.indexOf(shutdownEvent) < c.frames.indexOf(final as never), 'shutdown was announced first');
  await done;
  t.same(s.backend.aborts, [], 'nothing was aborted');
});

t.test('/ready is 503 and new chat.send is UNAVAILABLE while draining', async (t) => {
  const s = await start(t, { config: { shutdownDeadlineMs: 5000 } });
  s.backend.deltaCount = 15;
  s.backend.delayMs = 20;
  const c = await Client.connected(s.wsUrl);
  // An extra keep-alive HTTP connection opened before shutdown keeps working while draining.
  t.equal((await fetch(`${s.httpUrl}/ready`)).status, 200);
  await c.request('chat.send', { message: 'long' });
  const done = s.fd.shutdown();
  const ready = await fetch(`${s.httpUrl}/ready`);
  t.equal(ready.status, 503);
  t.match(await ready.json(), { reason: 'shutting_down' });
  const refused = await c.request('chat.send', { message: 'another' });
  t.match(refused.error, { code: 'UNAVAILABLE', reason: 'shutting_down', retryable: true });
  await done;
});

t.test('a run still going at the deadline is aborted and the socket closed anyway', async (t) => {
  const s = await start(t, { config: { shutdownDeadlineMs: 150 } });
  s.backend.deltaCount = 100_000;
  s.backend.delayMs = 10;
  const c = await Client.connected(s.wsUrl);
  await c.request('chat.send', { message: 'forever' });
  const started = Date.now();
  await s.fd.shutdown();
  t.ok(Date.now() - started < 2000, 'shutdown returned soon after its deadline');
  t.same(s.backend.aborts, ['run-1']);
  t.equal((await within(c.closed, 3000, 'close')).code, 1001);
});

t.test('upgrades during shutdown are refused', async (t) => {
  const s = await start(t, { config: { shutdownDeadlineMs: 2000 } });
  s.backend.deltaCount = 20;
  s.backend.delayMs = 20;
  const c = await Client.connected(s.wsUrl);
  await c.request('chat.send', { message: 'x' });
  const done = s.fd.shutdown();
  await t.rejects(Client.open(s.wsUrl));
  await done;
});

t.test('shutdown lets an in-flight streaming HTTP completion finish', async (t) => {
  const s = await start(t, { config: { shutdownDeadlineMs: 5000 } });
  s.backend.deltaCount = 10;
  s.backend.delayMs = 20;
  const res = await fetch(`${s.httpUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer tok-alice', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: 'x' }], stream: true }),
  });
  const done = s.fd.shutdown();
  const text = await res.text();
  t.match(text, /data: \[DONE\]\n\n$/);
  t.equal(text.split('"content":"tok "').length - 1, 10, 'all ten deltas arrived');
  await done;
});

t.test('with a metrics token, /metrics answers only that bearer token; /health and /ready stay open', async (t) => {
  const token = 'metrics-token-0123456789';
  const s = await start(t, { config: { metricsToken: token } });
  const none = await fetch(`${s.httpUrl}/metrics`);
  t.equal(none.status, 401);
  t.match(await none.json(), { error: { code: 'UNAUTHORIZED', reason: 'missing_token' } });
  const wrong = await fetch(`${s.httpUrl}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456780' } });
  t.equal(wrong.status, 401);
  t.match(await wrong.json(), { error: { reason: 'bad_token' } });
  const right = await fetch(`${s.httpUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(right.status, 200);
  t.match(await right.text(), /troupe_ws_connections/);
  t.equal((await fetch(`${s.httpUrl}/health`)).status, 200);
  t.equal((await fetch(`${s.httpUrl}/ready`)).status, 200);
});
