import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { WebSocketServer } from 'ws';
import type { WsBenchOptions } from '../../bench/ws/options.js';
import { loadConfig, type GatewayConfig } from '../../gateway/config.js';
import { startGateway, type RunningGateway } from '../../gateway/gateway.js';
import { signToken } from '../../security/jwt.js';

export const SECRET = 'a-bench-test-secret-that-is-long-enough';

export async function gateway(t: Test, env: Record<string, string> = {}, patch: Partial<GatewayConfig> = {}): Promise<RunningGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'troupe-bench-'));
  const base = loadConfig({
    TROUPE_DATA_DIR: dataDir, TROUPE_PORT: '0', TROUPE_WORKERS: '2', TROUPE_JWT_SECRET: SECRET,
    TROUPE_CHAT_RATE: '100000', TROUPE_CHAT_BURST: '100000', ...env,
  });
  const gw = await startGateway({
    ...base,
    agents: [
      { id: 'fast', model: 'sim', provider: { kind: 'simulated', tokens: 16 } },
      { id: 'slow', model: 'sim', provider: { kind: 'simulated', tokens: 40, latencyMs: 25 } },
    ],
    ...patch,
  });
  t.teardown(() => gw.shutdown());
  return gw;
}

export const token = () => signToken({ secret: SECRET, tenant: 'bench', user: 'u1', scopes: ['chat', 'platform'], ttlSec: 600 });

export function wsOptions(url: string, patch: Partial<WsBenchOptions>): WsBenchOptions {
  return {
    url, conns: 4, durationMs: 1_000, warmupMs: 0, scenario: 'ping', rate: 0, rampPerSec: 0, payload: 0, echo: false,
    drainMs: 10_000, connectTimeoutMs: 5_000, soak: false, leakThresholdBytes: 50 * 1024 * 1024, ...patch,
  };
}

/** A plain `ws` server that counts request frames by method and echoes them (or answers them). */
export async function countingServer(t: Test, answer: (f: { id: unknown; method: string }) => unknown = (f) => f) {
  const counts: Record<string, number> = {};
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as { id: unknown; method: string };
      counts[f.method] = (counts[f.method] ?? 0) + 1;
      const reply = answer(f);
      if (reply !== undefined) ws.send(JSON.stringify(reply));
    });
  });
  t.teardown(() => new Promise<void>((r) => {
    for (const c of wss.clients) c.terminate();
    wss.close(() => r());
  }));
  const { port } = wss.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}/ws`, counts };
}
