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
 */
import { Pool } from 'undici';
import { SimulatedProvider } from '../../providers/simulated.js';
import { newHistogram, recordUs, summarize } from '../common/histogram.js';
import { BENCH_AGENT, BENCH_CONFIG, startGatewayProcess } from '../compare/processes.js';
import type { LatencySummary } from '../report/result.js';
import { runWsBench } from '../ws/run.js';
import { benchPlatform, type BenchPlatformName } from './platform.js';

export interface ChannelBenchOptions {
  platform: BenchPlatformName;
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
  target: { ratio: number; lost: 0; duplicated: 0 };
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
  const platform = benchPlatform(o.platform);
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

  const chatIds = Array.from({ length: o.conns }, (_, i) => platform.chatId(i));
  const stopAt = performance.now() + o.warmupMs + o.durationMs;
  windowEnd = stopAt;
  const measureTimer = setTimeout(() => { measuring = true; }, o.warmupMs);
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
    };
    log(`channel ${o.platform}: ${result.channel.messagesPerSec} msg/s, p50 ${result.channel.latency.p50} ms, p99 ${result.channel.latency.p99} ms, lost ${lost}, duplicated ${duplicated}`);
    if (o.ws) {
      const ws = await runWsBench({
        url: `ws://127.0.0.1:${gw.port}/ws`, token: gw.token, conns: o.conns, durationMs: o.durationMs, warmupMs: o.warmupMs,
        scenario: 'chat', rate: o.rate, rampPerSec: 0, payload: 0, echo: false, drainMs: o.drainMs, connectTimeoutMs: 10_000,
        soak: false, leakThresholdBytes: 0, agent: BENCH_AGENT, metricsUrl: '',
      });
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
    `channel benchmark: ${r.settings.platform}, ${r.settings.conns} chats, ${r.settings.rate > 0 ? `${r.settings.rate} webhooks/s` : 'closed loop'}, ${r.settings.durationMs / 1000}s`,
    `  messages/s         ${c.messagesPerSec}`,
    `  webhook→reply ms   p50 ${c.latency.p50}  p99 ${c.latency.p99}  max ${c.latency.max}`,
    `  sent ${c.sent}  completed ${c.completed}  lost ${c.lost}  duplicated ${c.duplicated}  rejected ${c.rejected}`,
  ];
  if (r.ws) lines.push(`  ws chat.send       ${r.ws.turnsPerSec} turns/s  p50 ${r.ws.latency.p50} ms`);
  if (r.ratio !== undefined) {
    const pass = r.ratio >= r.target.ratio && c.lost === 0 && c.duplicated === 0;
    lines.push(`  ratio channel/ws   ${r.ratio}  (target ≥ ${r.target.ratio}, 0 lost, 0 duplicated: ${pass ? 'met' : 'NOT met'})`);
  }
  return lines.join('\n');
}
