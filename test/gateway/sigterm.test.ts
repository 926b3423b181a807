import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import WebSocket from 'ws';
import { startGatewayProcess } from '../helpers/gateway_io.js';
import { signToken } from '../../security/jwt.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';

t.test('SIGTERM: the gateway stops accepting, tells clients, drains the run in flight, then exits 0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-sigterm-'));
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ agents: [{ id: 'slow', model: 'sim', provider: { kind: 'simulated', tokens: 30, latencyMs: 30 } }] }));
  const { child, port, output: out } = await startGatewayProcess({ TROUPE_DATA_DIR: dir, TROUPE_JWT_SECRET: SECRET, TROUPE_STORE: 'none', TROUPE_WORKERS: '1', TROUPE_CONFIG: config });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const token = await signToken({ secret: SECRET, tenant: 'acme', user: 'u', ttlSec: 600 });
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token}`);
  const events: { event?: string; payload?: { runId?: string; text?: string } }[] = [];
  ws.on('message', (d) => events.push(JSON.parse(String(d)) as { event?: string }));
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  ws.send(JSON.stringify({ type: 'req', id: '1', method: 'connect', params: {} }));
  ws.send(JSON.stringify({ type: 'req', id: '2', method: 'chat.send', params: { message: 'long answer please' } }));
  for (let i = 0; i < 200 && !events.some((e) => e.event === 'chat.delta'); i++) await new Promise((r) => setTimeout(r, 10));
  child.kill('SIGTERM');
  for (let i = 0; i < 200 && !events.some((e) => e.event === 'shutdown'); i++) await new Promise((r) => setTimeout(r, 10));
  t.ok(events.some((e) => e.event === 'shutdown'), 'the client got a shutdown event');
  const refused = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.status, () => 'refused');
  t.not(refused, 200, 'no longer ready for new work');
  t.equal(await closed, 1001, 'the connection closed with 1001 (going away)');
  const final = events.find((e) => e.event === 'chat.final');
  t.equal(final?.payload?.text?.split(' ').length, 30, 'the run in flight finished before the close');
  t.equal(await exited, 0, 'the process exited cleanly');
  t.match(out(), /SIGTERM: draining/);
  t.match(out(), /stopped/);
});
