/**
 * Checks `troupe bench channel`'s own harness against an independent one.
 *
 * One gateway (a child process, as `bench channel` starts it) with two
 * channels of the same platform and configuration: `bench-node`, replying to
 * the in-process harness (node_harness.ts: the fake and an undici webhook
 * client), and `bench-go`, replying to chanload.go (go_harness.ts). After the
 * WebSocket warm-up the two drive their channel in turn, node go go node
 * node go…, each leg with its own warm-up, so drift in the machine's speed and
 * the gateway's first-leg compilation hit both alike. It prints every leg (messages/s, webhook→reply p50/p99, lost,
 * duplicated, CPU per message of the harness and of the gateway, the load
 * average as the leg began) and each harness's median.
 *
 * Usage: node dist/bench/independent/channel_crosscheck.js [--platform telegram] [--conns 50] [--duration 10]
 *        [--warmup 2] [--rounds 2] [--chanload PATH]
 */
import { loadavg } from 'node:os';
import { startGoHarness } from '../channel/go_harness.js';
import type { Harness, HarnessName, LegOptions } from '../channel/leg.js';
import { startNodeHarness } from '../channel/node_harness.js';
import { BENCH_PLATFORMS, type BenchPlatformName } from '../channel/platform.js';
import { benchChannelEntry, expectedReply, TEXT } from '../channel/run.js';
import { scriptArgv } from '../common/args.js';
import { BENCH_AGENT, BENCH_CONFIG, startGatewayProcess, type GatewayChild } from '../compare/processes.js';
import { runWsBench } from '../ws/run.js';

const USAGE = 'usage: node dist/bench/independent/channel_crosscheck.js [--platform telegram] [--conns 50] [--duration 10] [--warmup 2] [--rounds 2] [--chanload PATH]';
const argv = scriptArgv('channel_crosscheck', USAGE, {
  platform: { type: 'string' }, conns: { type: 'string' }, duration: { type: 'string' }, warmup: { type: 'string' },
  rounds: { type: 'string' }, chanload: { type: 'string' },
});
const platform = (argv.platform ?? 'telegram') as BenchPlatformName;
const conns = Number(argv.conns ?? '50');
const durationS = Number(argv.duration ?? '10');
const warmupS = Number(argv.warmup ?? '2');
const rounds = Number(argv.rounds ?? '2');
if (!BENCH_PLATFORMS.includes(platform) || !Number.isInteger(conns) || conns < 1 || !(durationS > 0) || !(warmupS >= 0)
  || !Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write(`channel_crosscheck: --platform ${BENCH_PLATFORMS.join('|')}, --conns and --rounds positive integers, --duration and --warmup seconds\n${USAGE}\n`);
  process.exit(2);
}

interface LegRow {
  harness: HarnessName;
  round: number;
  load1: number;
  messagesPerSec: number;
  p50: number;
  p99: number;
  completed: number;
  lost: number;
  duplicated: number;
  rejected: number;
  /** CPU ms per message: the harness (this process, plus the Go process for go), and the gateway. */
  harnessMs: number;
  goMs?: number;
  gatewayMs: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

const leg: LegOptions = {
  platform, conns, rate: 0, durationMs: durationS * 1000, warmupMs: warmupS * 1000, drainMs: 10_000, text: TEXT, expected: await expectedReply(),
};
const harnesses: [HarnessName, Harness][] = [];
let gw: GatewayChild | undefined;
try {
  harnesses.push(['node', await startNodeHarness(leg, 'uws')], ['go', await startGoHarness(leg, argv.chanload)]);
  gw = await startGatewayProcess({
    config: { ...BENCH_CONFIG, channels: harnesses.map(([name, h]) => benchChannelEntry(`bench-${name}`, platform, h.apiRoot)) },
  });
  if (warmupS > 0) {
    await runWsBench({
      url: `ws://127.0.0.1:${gw.port}/ws`, token: gw.token, conns, durationMs: warmupS * 1000, warmupMs: 0, scenario: 'chat', rate: 0,
      rampPerSec: 0, payload: 0, echo: false, drainMs: 10_000, connectTimeoutMs: 10_000, soak: false, leakThresholdBytes: 0,
      agent: BENCH_AGENT, metricsUrl: '',
    });
  }
  const rows: LegRow[] = [];
  for (let round = 1; round <= rounds; round++) {
    // node go, go node, …: what runs first on the fresh gateway (its channel path still compiling) changes each round.
    for (const [name, h] of round % 2 === 1 ? harnesses : [...harnesses].reverse()) {
      const load1 = Math.round((loadavg()[0] ?? 0) * 100) / 100;
      const { channel: c, cpu } = await h.run({ pid: gw.pid, webhookUrl: `http://127.0.0.1:${gw.port}/channels/bench-${name}` });
      rows.push({
        harness: name, round, load1, messagesPerSec: c.messagesPerSec, p50: c.latency.p50, p99: c.latency.p99, completed: c.completed,
        lost: c.lost, duplicated: c.duplicated, rejected: c.rejected, harnessMs: cpu.benchMs, ...(cpu.goMs === undefined ? {} : { goMs: cpu.goMs }),
        gatewayMs: cpu.gatewayMs.total ?? 0,
      });
      process.stderr.write(`round ${round} ${name}: ${c.messagesPerSec} msg/s, p50 ${c.latency.p50} p99 ${c.latency.p99} ms, lost ${c.lost}, dup ${c.duplicated}, cpu ms/msg harness ${cpu.benchMs} gateway ${cpu.gatewayMs.total ?? 0} (load ${load1})\n`);
    }
  }
  const summary = Object.fromEntries(harnesses.map(([name]) => {
    const mine = rows.filter((r) => r.harness === name);
    const med = (k: 'messagesPerSec' | 'p50' | 'p99' | 'harnessMs' | 'gatewayMs') => Math.round(median(mine.map((r) => r[k])) * 1000) / 1000;
    return [name, {
      messagesPerSec: med('messagesPerSec'), p50: med('p50'), p99: med('p99'), harnessMs: med('harnessMs'), gatewayMs: med('gatewayMs'),
      lost: mine.reduce((a, r) => a + r.lost, 0), duplicated: mine.reduce((a, r) => a + r.duplicated, 0),
    }];
  }));
  process.stdout.write(JSON.stringify({
    schema: 'troupe.channel-crosscheck/1', platform, conns, durationS, warmupS, rounds, store: process.env.TROUPE_STORE ?? 'default', legs: rows, median: summary,
  }, null, 2) + '\n');
} finally {
  await gw?.stop();
  await Promise.all(harnesses.map(([, h]) => h.stop()));
}
