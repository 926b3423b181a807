import t from 'tap';
import WebSocket from 'ws';
import { TestBucket } from './fakes.js';
import { Client, errorOf, start, within } from './harness.js';

function rejectedStatus(url: string, headers: Record<string, string> = {}): Promise<{ status: number; retryAfter?: string; body: string }> {
  return within(new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body }));
    });
    ws.on('open', () => { ws.close(); reject(new Error('upgrade was accepted')); });
    ws.on('error', () => {});
  }), 5000, 'rejected upgrade');
}

t.test('a frame above maxPayloadBytes gets PAYLOAD_TOO_LARGE, then close 1009', async (t) => {
  const s = await start(t, { config: { maxPayloadBytes: 1024 } });
  const bystander = await Client.connected(s.wsUrl, 'tok-bob');
  const c = await Client.connected(s.wsUrl);
  c.sendRaw(JSON.stringify({ type: 'req', id: 'big', method: 'chat.send', params: { message: 'x'.repeat(1500) } }));
  const res = await c.nextAnonymousError();
  t.equal(errorOf(res).code, 'PAYLOAD_TOO_LARGE');
  t.equal((await c.closed).code, 1009);
  t.equal((await bystander.request('agents.list')).ok, true);
  bystander.close();
});

t.test('a browser Origin outside the allowlist is refused with 403', async (t) => {
  const s = await start(t, { config: { allowedOrigins: ['https://app.example'] } });
  const r = await rejectedStatus(s.wsUrl, { origin: 'https://evil.example' });
  t.equal(r.status, 403);
  t.match(JSON.parse(r.body), { error: { code: 'FORBIDDEN', reason: 'origin_not_allowed' } });
});

t.test('an allowed Origin and a missing Origin are both accepted', async (t) => {
  const s = await start(t, { config: { allowedOrigins: ['https://app.example'] } });
  const browser = await Client.open(s.wsUrl, { headers: { origin: 'https://app.example' } });
  const cli = await Client.open(s.wsUrl);
  t.equal((await browser.request('connect', { token: 'tok-alice' })).ok, true);
  t.equal((await cli.request('connect', { token: 'tok-alice' })).ok, true);
  browser.close();
  cli.close();
});

t.test('a page served by the gateway itself (Origin naming the upgrade\'s Host) is accepted without an allowlist', async (t) => {
  const s = await start(t);
  const host = new URL(s.wsUrl).host;
  const page = await Client.open(s.wsUrl, { headers: { origin: `http://${host}` } });
  t.equal((await page.request('connect', { token: 'tok-alice' })).ok, true);
  page.close();
  const r = await rejectedStatus(s.wsUrl, { origin: `http://${host}.evil.example` });
  t.equal(r.status, 403, 'a look-alike origin is still refused');
});

t.test('connect rate limit refuses the upgrade with 429, Retry-After and retryAfterMs', async (t) => {
  const s = await start(t, { connect: new TestBucket(1, 0.5) });
  const first = await Client.open(s.wsUrl);
  const r = await rejectedStatus(s.wsUrl);
  t.equal(r.status, 429);
  t.equal(r.retryAfter, '2');
  const body = JSON.parse(r.body) as { error: { code: string; retryAfterMs: number } };
  t.equal(body.error.code, 'RATE_LIMITED');
  t.ok(body.error.retryAfterMs > 1000 && body.error.retryAfterMs <= 2000, `retryAfterMs ${body.error.retryAfterMs}`);
  t.match(await s.registry.metrics(), /troupe_rate_limited_total\{limiter="connect"\} 1/);
  first.close();
});

t.test('chat.send over the limit is RATE_LIMITED with retryAfterMs, per user', async (t) => {
  const s = await start(t, { chat: new TestBucket(2, 1) });
  const alice = await Client.connected(s.wsUrl);
  const bob = await Client.connected(s.wsUrl, 'tok-bob');
  t.equal((await alice.request('chat.send', { message: '1' })).ok, true);
  t.equal((await alice.request('chat.send', { message: '2' })).ok, true);
  const third = await alice.request('chat.send', { message: '3' });
  t.match(errorOf(third), { code: 'RATE_LIMITED', retryable: true });
  t.ok((errorOf(third).retryAfterMs as number) > 0);
  t.equal((await bob.request('chat.send', { message: 'b' })).ok, true, 'another user has their own bucket');
  alice.close();
  bob.close();
});

t.test('too many requests in flight on one connection are OVERLOADED', async (t) => {
  const s = await start(t, { config: { maxInflightPerConnection: 2 } });
  const slowBackend = s.backend;
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => { release = r; });
  slowBackend.sessionsList = async () => { await gate; return { sessions: [] }; };
  const c = await Client.connected(s.wsUrl);
  const a = c.request('sessions.list');
  const b = c.request('sessions.list');
  const third = await c.request('sessions.list');
  t.match(errorOf(third), { code: 'OVERLOADED', reason: 'too_many_inflight' });
  release();
  t.equal((await a).ok, true);
  t.equal((await b).ok, true);
  c.close();
});

t.test('a connection that never authenticates is closed with 4401', async (t) => {
  const s = await start(t, { config: { connectTimeoutMs: 100 } });
  const c = await Client.open(s.wsUrl);
  const closed = await within(c.closed, 3000, 'auth timeout close');
  t.equal(closed.code, 4401);
});

t.test('a client that stops reading is closed as a slow consumer and memory stays bounded', async (t) => {
  const maxBufferedBytes = 64 * 1024;
  const maxQueuedBytes = 256 * 1024;
  const s = await start(t, { config: { maxBufferedBytes, maxQueuedBytes, slowConsumerMs: 2000 } });
  s.backend.deltaCount = 20_000;
  s.backend.deltaText = 'y'.repeat(1024);
  s.backend.burst = 16; // ~16 KiB per timer turn: the queue fills gradually and can be sampled
  const bystander = await Client.connected(s.wsUrl, 'tok-bob');
  const slow = await Client.connected(s.wsUrl);
  // Stop reading at the TCP level: kernel buffers fill, then uWS's, then ours.
  (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
  slow.send({ type: 'req', id: 'flood', method: 'chat.send', params: { message: 'flood' } });

  let peakQueued = 0;
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && s.fd.stats().connections > 1) {
    peakQueued = Math.max(peakQueued, s.fd.stats().queuedBytes);
    await new Promise((r) => setImmediate(r));
  }
  t.match(await s.registry.metrics(), /troupe_ws_slow_consumer_closes_total 1/, 'the slow consumer was closed');
  t.ok(peakQueued > maxQueuedBytes / 2, `the queue was used (peak ${peakQueued} bytes)`);
  t.ok(peakQueued <= maxQueuedBytes + 2048, `the queue never exceeded its bound (peak ${peakQueued} bytes)`);
  t.equal(s.fd.stats().queuedBytes, 0, 'its queue was released');
  t.equal((await bystander.request('agents.list')).ok, true, 'other clients are still served');
  (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  const closed = await within(slow.closed, 10_000, 'slow client close');
  t.ok(closed.code === 4008 || closed.code === 1006, `close code ${closed.code}`);
  bystander.close();
});

t.test('a broken limiter fails closed with UNAVAILABLE limiter_unavailable', async (t) => {
  const s = await start(t, { chat: { take: async () => { throw new Error('redis down'); } } });
  const c = await Client.connected(s.wsUrl);
  const res = await c.request('chat.send', { message: 'x' });
  t.match(errorOf(res), { code: 'UNAVAILABLE', reason: 'limiter_unavailable', retryable: true, retryAfterMs: 1000 });
  t.equal(s.backend.sent.length, 0, 'nothing reached the backend');
  c.close();
});
