/**
 * `troupe bench channel --platform telegram|slack|whatsapp`: signed webhooks
 * into a gateway child process whose channel replies to the platform's fake,
 * run here. The fake timestamps each reply, so latency is webhook sent → the
 * reply's full text reaching the platform (its first post, or the edit that
 * completes a streamed reply). Each chat has its replies in order, so the k-th
 * completed reply in a chat answers the k-th webhook sent to it:
 *
 *   chat c:  sent[c] = [t0, t1, …]   replies complete ──► latency = now - sent[c][done[c]++]
 *   lost       = webhooks accepted but never answered by the end of the drain
 *   duplicated = new messages (posts) beyond one per webhook
 *
 * Closed loop (default): `conns` chats, each with one message in flight.
 * Open loop (`--rate R`): R webhooks per second over `conns` chats.
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
 * (/proc), and the bench process's own (webhook client and platform fake, or
 * the WebSocket client), over the channel's measured window and the whole
 * (warm) WebSocket leg. On a machine shared with other work the rates move
 * with the neighbours; the CPU a message costs much less, so its ratio is
 * the one to compare across runs.
 */
import { Pool } from 'undici';
import { SimulatedProvider } from '../../providers/simulated.js';
import { newHistogram, recordUs, summarize } from '../common/histogram.js';
import { cpuSnapshot, cpuSpent } from '../common/proc_cpu.js';
import { BENCH_AGENT, BENCH_CONFIG, startGatewayProcess } from '../compare/processes.js';
import type { LatencySummary } from '../report/result.js';
import type { WsBenchOptions } from '../ws/options.js';
import { runWsBench } from '../ws/run.js';
import { benchPlatform, type BenchPlatformName } from './platform.js';

export interface ChannelBenchOptions {
  platform: BenchPlatformName;
  /**
   * What serves the platform's fake API in this process: uWebSockets.js (default) or node:http. The fake and the
   * webhook client share this process's one thread and the gateway's cores: on a quiet 2-core machine 0.125 ms of
   * CPU per message on uWS, 0.147 on node:http, against the WebSocket client's 0.045 per turn.
   */
  fake?: 'uws' | 'node';
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
  channel: {
    sent: number;
    /** Webhooks the gateway did not answer 200 (they are not counted lost). */
    rejected: number;
    completed: number;
    lost: number;
    duplicated: number;
    messagesPerSec: number;
    latency: LatencySummary;
  };
  ws?: { turnsPerSec: number; latency: LatencySummary; lost: number };
  /** Channel messages/s ÷ WebSocket turns/s. */
  ratio?: number;
  /** CPU milliseconds per message answered, per leg. */
  cpu: { channel: LegCpu; ws?: LegCpu };
  target: { ratio: number; lost: 0; duplicated: 0 };
}

/** CPU ms per message answered: the gateway's by thread name (`main`, worker names, `total`) and the bench process's own. */
export interface LegCpu {
  messages: number;
  gatewayMs: Record<string, number>;
  benchMs: number;
}

/** Starts counting the gateway's and this process's CPU; the returned function ends the count. */
function cpuMeter(pid: number): (messages: number) => LegCpu {
  const gw = cpuSnapshot(pid);
  const own = process.cpuUsage();
  return (messages) => {
    const spent = cpuSpent(gw, cpuSnapshot(pid));
    const ownUs = process.cpuUsage(own);
    const per = (seconds: number) => Math.round((seconds * 1000 / Math.max(1, messages)) * 1000) / 1000;
    const gatewayMs: Record<string, number> = {};
    for (const [name, seconds] of Object.entries(spent)) gatewayMs[name] = per(seconds);
    return { messages, gatewayMs, benchMs: per((ownUs.user + ownUs.system) / 1e6) };
  };
}

const TEXT = 'how is the weather';
const TARGET_RATIO = 0.8;

/** The simulated agent's reply to TEXT: what a completed reply must read. */
async function expectedReply(): Promise<string> {
  const agent = BENCH_CONFIG.agents[0];
  const provider = new SimulatedProvider({ tokens: agent?.provider.tokens ?? 16 });
  let text = '';
  for await (const e of provider.stream({ model: 'simulated-1', messages: [{ role: 'user', content: TEXT }] })) {
    if (e.type === 'text') text += e.delta;
  }
  return text;
}

interface ChatState {
  sent: number[];
  measured: boolean[];
  done: number;
  posts: number;
}

export async function runChannelBench(o: ChannelBenchOptions, log: (line: string) => void = () => undefined): Promise<ChannelBenchResult> {
  const expected = await expectedReply();
  const platform = benchPlatform(o.platform, o.fake ?? 'uws');
  const chats = new Map<string, ChatState>();
  const hist = newHistogram();
  let measuring = o.warmupMs === 0;
  let completed = 0;
  let inWindow = 0;
  let windowEnd = Number.POSITIVE_INFINITY;
  let duplicated = 0;
  let waiting: (() => void) | undefined;
  const wakers = new Map<string, () => void>();

  await platform.start((chat, text, kind) => {
    const c = chats.get(chat);
    if (c === undefined) return;
    if (kind === 'post' && ++c.posts > c.sent.length) duplicated++;
    // A streamed reply completes when its text is whole; until then it is a partial edit.
    if (text.trim() !== expected || c.done >= c.sent.length) return;
    const i = c.done++;
    if (c.measured[i] === true) {
      const now = performance.now();
      recordUs(hist, (now - (c.sent[i] ?? 0)) * 1000);
      completed++;
      if (now <= windowEnd) inWindow++;
    }
    wakers.get(chat)?.();
    if (waiting !== undefined && [...chats.values()].every((s) => s.done >= s.sent.length)) waiting();
  });

  const gw = await startGatewayProcess({
    config: {
      ...BENCH_CONFIG,
      channels: [{
        id: 'bench', tenant: 'bench', agent: BENCH_AGENT, access: { mode: 'open' },
        rate: { perChatPerSecond: 10_000, perBotPerSecond: 10_000 }, ...platform.channel(),
      }],
    },
    ...(o.cpuProfDir === undefined ? {} : { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] }),
  });
  // undici's pool rather than fetch: the load client must cost the shared CPU as little as it can.
  const pool = new Pool(`http://127.0.0.1:${gw.port}`, { connections: Math.min(o.conns, 256) });
  let n = 0;
  let rejected = 0;
  let sentMeasured = 0;

  const send = async (chat: string): Promise<boolean> => {
    const c = chats.get(chat) ?? { sent: [], measured: [], done: 0, posts: 0 };
    chats.set(chat, c);
    const { body, headers } = platform.webhook(chat, ++n, TEXT);
    c.sent.push(performance.now());
    c.measured.push(measuring);
    if (measuring) sentMeasured++;
    const res = await pool.request({ path: '/channels/bench', method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
      .catch(() => undefined);
    await res?.body.dump();
    if (res?.statusCode === 200) return true;
    // Not accepted: forget it, so it is neither waited for nor counted lost.
    c.sent.pop();
    if (c.measured.pop() === true) sentMeasured--;
    rejected++;
    return false;
  };

  const wsOptions = (durationMs: number, warmupMs: number): WsBenchOptions => ({
    url: `ws://127.0.0.1:${gw.port}/ws`, token: gw.token, conns: o.conns, durationMs, warmupMs,
    scenario: 'chat', rate: o.rate, rampPerSec: 0, payload: 0, echo: false, drainMs: o.drainMs, connectTimeoutMs: 10_000,
    soak: false, leakThresholdBytes: 0, agent: BENCH_AGENT, metricsUrl: '',
  });
  if (o.ws && o.warmupMs > 0) await runWsBench(wsOptions(o.warmupMs, 0));
  const chatIds = Array.from({ length: o.conns }, (_, i) => platform.chatId(i));
  let channelCpu = cpuMeter(gw.pid);
  const stopAt = performance.now() + o.warmupMs + o.durationMs;
  windowEnd = stopAt;
  const measureTimer = setTimeout(() => {
    measuring = true;
    channelCpu = cpuMeter(gw.pid);
  }, o.warmupMs);
  let measureStart = performance.now() + o.warmupMs;
  try {
    if (o.rate > 0) {
      const gap = 1000 / o.rate;
      let next = performance.now();
      let i = 0;
      const inflight = new Set<Promise<boolean>>();
      while (performance.now() < stopAt) {
        const p = send(chatIds[i++ % chatIds.length] ?? '0');
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
        next += gap;
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      await Promise.all(inflight);
    } else {
      await Promise.all(chatIds.map(async (chat) => {
        while (performance.now() < stopAt) {
          const replied = new Promise<void>((resolve) => wakers.set(chat, resolve));
          if (!(await send(chat))) continue;
          const timeout = new Promise<void>((resolve) => setTimeout(resolve, o.drainMs));
          await Promise.race([replied, timeout]);
        }
      }));
    }
    measureStart = Math.min(measureStart, stopAt);
    const measuredMs = stopAt - measureStart;
    // Drain: wait for the replies still on their way, bounded.
    if (![...chats.values()].every((s) => s.done >= s.sent.length)) {
      await new Promise<void>((resolve) => {
        waiting = resolve;
        setTimeout(resolve, o.drainMs);
      });
    }
    // The replies to the messages sent in the window are in (or lost): what they cost ends here.
    const cpu = channelCpu(completed);
    await new Promise((r) => setTimeout(r, 200)); // late duplicates
    const lost = [...chats.values()].reduce((sum, c) => sum + (c.sent.length - c.done), 0);
    const result: ChannelBenchResult = {
      benchmark: 'channel',
      date: new Date().toISOString(),
      settings: o,
      channel: {
        sent: sentMeasured,
        rejected,
        completed,
        lost,
        duplicated,
        messagesPerSec: Math.round((inWindow / Math.max(1, measuredMs)) * 1000 * 10) / 10,
        latency: summarize(hist),
      },
      target: { ratio: TARGET_RATIO, lost: 0, duplicated: 0 },
      cpu: { channel: cpu },
    };
    log(`channel ${o.platform}: ${result.channel.messagesPerSec} msg/s, p50 ${result.channel.latency.p50} ms, p99 ${result.channel.latency.p99} ms, lost ${lost}, duplicated ${duplicated}`);
    if (o.ws) {
      const wsCpu = cpuMeter(gw.pid);
      const ws = await runWsBench(wsOptions(o.durationMs, o.warmupMs));
      result.cpu.ws = wsCpu(ws.requests.completed + ws.requests.warmup);
      const turnsPerSec = Math.round((ws.requests.completed / Math.max(1, ws.measuredMs)) * 1000 * 10) / 10;
      result.ws = { turnsPerSec, latency: ws.latency, lost: ws.requests.lost };
      result.ratio = turnsPerSec > 0 ? Math.round((result.channel.messagesPerSec / turnsPerSec) * 1000) / 1000 : undefined;
      log(`ws chat.send: ${turnsPerSec} turns/s, p50 ${ws.latency.p50} ms; ratio ${result.ratio ?? '-'}`);
    }
    return result;
  } finally {
    clearTimeout(measureTimer);
    await pool.close();
    await gw.stop();
    await platform.stop();
  }
}

/** The table printed by the CLI. */
export function channelSummary(r: ChannelBenchResult): string {
  const c = r.channel;
  const lines = [
    `channel benchmark: ${r.settings.platform} (fake on ${r.settings.fake ?? 'uws'}), ${r.settings.conns} chats, ${r.settings.rate > 0 ? `${r.settings.rate} webhooks/s` : 'closed loop'}, ${r.settings.durationMs / 1000}s`,
    `  messages/s         ${c.messagesPerSec}`,
    `  webhook→reply ms   p50 ${c.latency.p50}  p99 ${c.latency.p99}  max ${c.latency.max}`,
    `  sent ${c.sent}  completed ${c.completed}  lost ${c.lost}  duplicated ${c.duplicated}  rejected ${c.rejected}`,
  ];
  if (r.ws) lines.push(`  ws chat.send       ${r.ws.turnsPerSec} turns/s  p50 ${r.ws.latency.p50} ms`);
  const cpuLine = (leg: string, c: LegCpu) => {
    const threads = Object.entries(c.gatewayMs).filter(([k]) => k !== 'total').sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`).join(', ');
    return `  cpu ms/${leg.padEnd(8)} gateway ${c.gatewayMs.total ?? 0} (${threads})  bench ${c.benchMs}  [${c.messages} msgs]`;
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
