import t from 'tap';
import { connect } from 'node:net';
import { Client, start, within } from './harness.js';

t.test('an idle peer that never answers pings is closed, while a ponging client stays open', async (t) => {
  const s = await start(t, { config: { idleTimeoutSec: 8 } });
  const live = await Client.connected(s.wsUrl);
  const started = Date.now();
  const raw = connect(s.port, '127.0.0.1');
  raw.on('error', () => {});
  raw.on('data', () => {}); // reads (so it is not a slow consumer) but never writes a pong
  raw.write([
    'GET /ws HTTP/1.1', `Host: 127.0.0.1:${s.port}`, 'Upgrade: websocket', 'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', '', '',
  ].join('\r\n'));
  await within(new Promise((resolve) => raw.on('close', resolve)), 30_000, 'idle close');
  const after = (Date.now() - started) / 1000;
  t.ok(after >= 6 && after <= 25, `closed after ${after.toFixed(1)} s (idleTimeoutSec 8, uWS granularity ~4 s)`);
  t.equal(live.ws.readyState, live.ws.OPEN, 'the client that answers pings is still open');
  t.equal((await live.request('agents.list')).ok, true);
  live.close();
});
