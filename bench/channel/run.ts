/**
 * `troupe bench channel --platform telegram|slack|whatsapp`: signed webhooks
 * into a gateway child process whose channel replies to the platform's API,
 * served by the harness (leg.ts): `--harness node` (default; node_harness.ts,
 * in this process) or `--harness go` (go_harness.ts, bench/independent/chanload.go).
 * The harness timestamps each reply, so latency is webhook sent → the reply's
 * full text reaching the platform (its first post, or the edit that completes
 * a streamed reply). Both harnesses drive the same gateway configuration:
 * the channel entry comes from platform.ts, pointed at the harness's port.
 *
 * Closed loop (default): `conns` chats, each with one message in flight.
 * Open loop (`--rate R`, node harness): R webhooks per second over `conns` chats.
 * The WebSocket `chat.send` path is then measured against the same gateway and
 * agent, with the same concurrency, for the ratio (target ≥ 0.8).
 *
 * Both paths are warm before either is measured: the WebSocket path is driven
 * for the warm-up time before the channel leg starts. Otherwise the channel
 * leg, which runs first, pays the fresh gateway's JIT compilation of the code
 * both paths share (actors, runtime, store): in a 10 s run that was about
 * half of the gateway's CPU (V8's compiler threads), billed to channel messages.
 *
 * Each leg also reports CPU per message answered: the gateway's, by thread
 * (/proc), and the harness's own (webhook client and platform fake, or the
 * WebSocket client), over the channel's measured window and the whole (warm)
 * WebSocket leg. On a machine shared with other work the rates move with the
 * neighbours; the CPU a message costs much less, so its ratio is the one to
 * compare across runs.
 */
import { SimulatedProvider } from '../../providers/simulated.js';
import { BENCH_AGENT, BENCH_CONFIG, startGatewayProcess, type GatewayChild } from '../compare/processes.js';
import type { LatencySummary } from '../report/result.js';
import type { WsBenchOptions } from '../ws/options.js';
import { runWsBench } from '../ws/run.js';
import { startGoHarness } from './go_harness.js';
import { cpuMeter, type ChannelFigures, type Harness, type HarnessName, type LegCpu, type LegOptions } from './leg.js';
import { startNodeHarness } from './node_harness.js';
import { benchChannel, type BenchPlatformName } from './platform.js';

export type { LegCpu } from './leg.js';

export interface ChannelBenchOptions {
  platform: BenchPlatformName;
  /**
   * What plays the platform: `node` (default), the fake and webhook client in this process; `go`, the independent
   * chanload.go in its own process (closed loop only). On a quiet 2-core machine the node harness costs 0.125 ms of
   * CPU per message on the gateway's cores, against the WebSocket client's 0.045 per turn.
   */
  harness?: HarnessName;
  /** What serves the node harness's platform fake: uWebSockets.js (default) or node:http. */
  fake?: 'uws' | 'node';
  /** A prebuilt chanload binary for `--harness go` (default: built from source into the temp dir). */
  chanload?: string;
  /** Chats (closed loop: one message in flight each). */
  conns: number;
  /** Webhooks per second in total; 0 = closed loop. */
  rate: number;
  durationMs: number;
  warmupMs: number;
  /** How long to wait for the last replies before counting them lost. */
  drainMs: number;
  /** Also measure WebSocket chat.send for the ratio (default true). */
  ws: boolean;
  /** Run the gateway with `--cpu-prof` and write its profiles (every thread's) here. */
  cpuProfDir?: string;
}

export interface ChannelBenchResult {
  benchmark: 'channel';
  date: string;
  settings: ChannelBenchOptions;
  channel: ChannelFigures;
  ws?: { turnsPerSec: number; latency: LatencySummary; lost: number };
  /** Channel messages/s ÷ WebSocket turns/s. */
  ratio?: number;
  /** CPU milliseconds per message answered, per leg. */
  cpu: { channel: LegCpu; ws?: LegCpu };
  target: { ratio: number; lost: 0; duplicated: 0 };
}

export const TEXT = 'how is the weather';
const TARGET_RATIO = 0.8;

/**
 * The gateway's channel `id` as every harness drives it: the bench agent, access `open` (no pairing), outbound
 * limits raised to 10,000/s per chat and per bot (the platform's own limits are not what is measured), and the
 * platform's API at `root`.
 */
export function benchChannelEntry(id: string, platform: BenchPlatformName, root: string): Record<string, unknown> {
  return {
    id, tenant: 'bench', agent: BENCH_AGENT, access: { mode: 'open' },
    rate: { perChatPerSecond: 10_000, perBotPerSecond: 10_000 }, ...benchChannel(platform, root),
  };
}

/** The simulated agent's reply to TEXT: what a completed reply must read. */
export async function expectedReply(): Promise<string> {
  const agent = BENCH_CONFIG.agents[0];
  const provider = new SimulatedProvider({ tokens: agent?.provider.tokens ?? 16 });
  let text = '';
  for await (const e of provider.stream({ model: 'simulated-1', messages: [{ role: 'user', content: TEXT }] })) {
    if (e.type === 'text') text += e.delta;
  }
  return text;
}

export async function runChannelBench(o: ChannelBenchOptions, log: (line: string) => void = () => undefined): Promise<ChannelBenchResult> {
  const leg: LegOptions = {
    platform: o.platform, conns: o.conns, rate: o.rate, durationMs: o.durationMs, warmupMs: o.warmupMs, drainMs: o.drainMs,
    text: TEXT, expected: await expectedReply(),
  };
  const harness: Harness = o.harness === 'go' ? await startGoHarness(leg, o.chanload) : await startNodeHarness(leg, o.fake ?? 'uws');
  let gw: GatewayChild | undefined;
  try {
    gw = await startGatewayProcess({
      config: {
        ...BENCH_CONFIG,
        channels: [benchChannelEntry('bench', o.platform, harness.apiRoot)],
      },
      ...(o.cpuProfDir === undefined ? {} : { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] }),
    });
    const wsOptions = (durationMs: number, warmupMs: number): WsBenchOptions => ({
      url: `ws://127.0.0.1:${gw?.port ?? 0}/ws`, token: gw?.token, conns: o.conns, durationMs, warmupMs,
      scenario: 'chat', rate: o.rate, rampPerSec: 0, payload: 0, echo: false, drainMs: o.drainMs, connectTimeoutMs: 10_000,
      soak: false, leakThresholdBytes: 0, agent: BENCH_AGENT, metricsUrl: '',
    });
    if (o.ws && o.warmupMs > 0) await runWsBench(wsOptions(o.warmupMs, 0));
    const { channel, cpu } = await harness.run({ pid: gw.pid, webhookUrl: `http://127.0.0.1:${gw.port}/channels/bench` });
    const result: ChannelBenchResult = {
      benchmark: 'channel',
      date: new Date().toISOString(),
      settings: o,
      channel,
      target: { ratio: TARGET_RATIO, lost: 0, duplicated: 0 },
      cpu: { channel: cpu },
    };
    log(`channel ${o.platform} (${o.harness ?? 'node'} harness): ${channel.messagesPerSec} msg/s, p50 ${channel.latency.p50} ms, p99 ${channel.latency.p99} ms, busy ${channel.busy}, lost ${channel.lost}, duplicated ${channel.duplicated}`);
    if (o.ws) {
      const wsCpu = cpuMeter(gw.pid);
      const ws = await runWsBench(wsOptions(o.durationMs, o.warmupMs));
      result.cpu.ws = wsCpu()(ws.requests.completed + ws.requests.warmup);
      const turnsPerSec = Math.round((ws.requests.completed / Math.max(1, ws.measuredMs)) * 1000 * 10) / 10;
      result.ws = { turnsPerSec, latency: ws.latency, lost: ws.requests.lost };
      result.ratio = turnsPerSec > 0 ? Math.round((result.channel.messagesPerSec / turnsPerSec) * 1000) / 1000 : undefined;
      log(`ws chat.send: ${turnsPerSec} turns/s, p50 ${ws.latency.p50} ms; ratio ${result.ratio ?? '-'}`);
    }
    return result;
  } finally {
    await gw?.stop();
    await harness.stop();
  }
}

/** The table printed by the CLI. */
export function channelSummary(r: ChannelBenchResult): string {
  const c = r.channel;
  const lines = [
    `channel benchmark: ${r.settings.platform} (${r.settings.harness === 'go' ? 'go harness' : `node harness, fake on ${r.settings.fake ?? 'uws'}`}), ${r.settings.conns} chats, ${r.settings.rate > 0 ? `${r.settings.rate} webhooks/s` : 'closed loop'}, ${r.settings.durationMs / 1000}s`,
    `  messages/s         ${c.messagesPerSec}`,
    `  webhook→reply ms   p50 ${c.latency.p50}  p99 ${c.latency.p99}  max ${c.latency.max}`,
    `  sent ${c.sent}  completed ${c.completed}  busy ${c.busy}  lost ${c.lost}  duplicated ${c.duplicated}  rejected ${c.rejected}`,
  ];
  if (r.ws) lines.push(`  ws chat.send       ${r.ws.turnsPerSec} turns/s  p50 ${r.ws.latency.p50} ms`);
  const cpuLine = (leg: string, c: LegCpu) => {
    const threads = Object.entries(c.gatewayMs).filter(([k]) => k !== 'total').sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`).join(', ');
    return `  cpu ms/${leg.padEnd(8)} gateway ${c.gatewayMs.total ?? 0} (${threads})  bench ${c.benchMs}${c.goMs === undefined ? '' : ` (go ${c.goMs})`}  [${c.messages} msgs]`;
  };
  lines.push(cpuLine('message', r.cpu.channel));
  if (r.cpu.ws !== undefined) {
    lines.push(cpuLine('ws turn', r.cpu.ws));
    const ch = r.cpu.channel.gatewayMs.total ?? 0;
    const ws = r.cpu.ws.gatewayMs.total ?? 0;
    if (ch > 0) lines.push(`  gateway cpu ratio  ${Math.round((ws / ch) * 1000) / 1000}  (ws turn ÷ channel message: the throughput ratio a CPU-bound gateway would reach)`);
  }
  if (r.ratio !== undefined) {
    const pass = r.ratio >= r.target.ratio && c.lost === 0 && c.duplicated === 0;
    lines.push(`  ratio channel/ws   ${r.ratio}  (target ≥ ${r.target.ratio}, 0 lost, 0 duplicated: ${pass ? 'met' : 'NOT met'})`);
  }
  return lines.join('\n');
}
