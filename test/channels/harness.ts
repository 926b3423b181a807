// The gateway started in-process for channel tests: a config file with the
// given channels and agents on the simulated provider, port 0, one worker,
// then helpers to post webhooks and read /health and /metrics. Every
// platform's suite uses it with its own fake (test/fakes/<platform>_platform.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../gateway/config.js';
import { startGateway, type RunningGateway } from '../../gateway/gateway.js';

export const SIMULATED_AGENTS = [
  { id: 'assistant', model: 'simulated-1', provider: { kind: 'simulated', tokens: 12, latencyMs: 0 } },
  // Slow enough that a streamed reply is edited several times.
  { id: 'slow', model: 'simulated-1', provider: { kind: 'simulated', tokens: 40, latencyMs: 15 } },
  // Long enough to be split into several messages on any platform.
  { id: 'long', model: 'simulated-1', provider: { kind: 'simulated', tokens: 1500, latencyMs: 0 } },
  // Fails half-way through its answer, after streaming 6 of its 12 words.
  { id: 'breaks', model: 'simulated-1', provider: { kind: 'simulated', tokens: 12, batchTokens: 3, failWith: { kind: 'bad_request', afterTokens: 6, message: 'the upstream broke' } } },
];

export interface ChannelGateway {
  gw: RunningGateway;
  url: string;
  /** Posts a webhook; `body` is sent exactly as given when it is a string or Buffer. */
  post(id: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; text: string }>;
  get(path: string): Promise<{ status: number; text: string }>;
  health(): Promise<{ channels: Record<string, { status: string; reason?: string }> }>;
  metrics(): Promise<string>;
  /** The value of one sample of /metrics, e.g. metric('troupe_channel_messages_total', { channel: 'tg', outcome: 'duplicate' }). */
  metric(name: string, labels: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  agents?: unknown[];
  env?: Record<string, string>;
  /** Minimum time between the edits of a streamed reply (tests keep it short). */
  editIntervalMs?: number;
}

export async function startChannelGateway(channels: unknown[], opts: HarnessOptions = {}): Promise<ChannelGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-chan-'));
  const file = join(dir, 'troupe.json');
  writeFileSync(file, JSON.stringify({ agents: opts.agents ?? SIMULATED_AGENTS, channels }));
  const config = loadConfig({
    TROUPE_DATA_DIR: dir, TROUPE_PORT: '0', TROUPE_WORKERS: '1', TROUPE_JWT_SECRET: 'channel-tests-secret-0123456789abcdef',
    TROUPE_STORE: 'none', ...opts.env,
  }, file);
  const gw = await startGateway(config, { channelEditIntervalMs: opts.editIntervalMs ?? 50 });
  const url = gw.url;
  const text = async (res: Response) => ({ status: res.status, text: await res.text() });
  const metrics = async () => (await fetch(`${url}/metrics`)).text();
  return {
    gw,
    url,
    post: async (id, body, headers = {}) => text(await fetch(`${url}/channels/${id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    })),
    get: async (path) => text(await fetch(`${url}${path}`)),
    health: async () => (await (await fetch(`${url}/health`)).json()) as { channels: Record<string, { status: string; reason?: string }> },
    metrics,
    metric: async (name, labels) => {
      const want = Object.entries(labels);
      for (const line of (await metrics()).split('\n')) {
        if (!line.startsWith(`${name}{`)) continue;
        if (want.every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return 0;
    },
    close: () => gw.shutdown(),
  };
}
