/**
 * `troupe bench tracing`: what OpenTelemetry tracing costs. Two gateways
 * (child `troupe start`s, default store, an agent on the fake OpenAI
 * upstream, or the 16-token 0 ms simulated agent) run side by side: one
 * without tracing, one exporting every span (always_on, OTLP http/protobuf)
 * to a collector that accepts and discards them, in this process. The same
 * WebSocket chat load drives each in turn, alternating off/on for `rounds`,
 * and the result is turns/s with tracing ÷ without.
 * On Linux each round also reads the gateway's CPU time from /proc (every
 * thread, and the main thread alone) and divides it by the round's turns:
 * what tracing adds per turn, which a loaded machine blurs far less than the
 * throughput ratio.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { processCpuSeconds, threadCpuSeconds } from '../common/proc_cpu.js';
import { BENCH_AGENT, startFakeUpstream, startGatewayProcess, type Child, type GatewayChild } from '../compare/processes.js';
import { PROXY_AGENT, proxyConfig } from '../proxy/run.js';
import { runWsBench } from '../ws/run.js';

/** The agent's provider in `bench tracing` (TracingBenchOptions.provider). */
export type TracingProvider = 'openai' | 'simulated';

export interface TracingBenchOptions {
  conns: number;
  durationMs: number;
  warmupMs: number;
  rounds: number;
  /** TROUPE_STORE for both gateways; undefined = the default (embedded PGlite). */
  store?: string;
  /**
   * The agent's provider: `openai` (the default: the fake OpenAI upstream in
   * its own process, through the provider actors and the lean OpenAI adapter,
   * as a user's turn goes; the model span then also carries `traceparent` out
   * on the upstream request) or `simulated` (16 tokens, 0 ms, made in the
   * worker: the least work a turn can be, so tracing's share is the largest).
   */
  provider?: TracingProvider;
}

export const TRACING_BENCH_DEFAULTS = { conns: 50, durationMs: 10_000, warmupMs: 2_000, rounds: 2 };

interface Round {
  tracing: boolean;
  turnsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
  /** The gateway's CPU µs per turn over the round (warm-up included): all threads, and the main thread. Absent without /proc. */
  cpuUsPerTurn?: number;
  mainCpuUsPerTurn?: number;
}

export interface TracingBenchResult {
  kind: 'tracing';
  startedAt: string;
  options: TracingBenchOptions & { store: string; provider: TracingProvider };
  rounds: Round[];
  offTurnsPerSec: number;
  onTurnsPerSec: number;
  /** Turns/s with tracing at 100 % sampling ÷ without, over all rounds (target ≥ 0.85). */
  ratio: number;
  /** Each round's on ÷ off, and their median: how much the machine's noise moved the ratio. */
  roundRatios: number[];
  medianRoundRatio: number;
  /**
   * Median CPU µs per turn of each gateway over its rounds, and on ÷ off (how much
   * more CPU a traced turn takes; 1 / 0.85 ≈ 1.18 is the throughput target's
   * equivalent where CPU is the bottleneck). Absent without /proc.
   */
  cpuPerTurn?: { offUs: number; onUs: number; onOverOff: number; mainOffUs: number; mainOnUs: number; mainOnOverOff: number };
  /** What the collector received, and what the traced gateway says it exported and dropped. */
  collector: { requests: number; bytes: number };
  spans: { exported: number; droppedQueueFull: number; droppedExportFailed: number };
}

/** An OTLP/HTTP collector that takes every export and throws it away. */
async function discardingCollector(): Promise<{ url: string; stats: { requests: number; bytes: number }; server: Server }> {
  const stats = { requests: 0, bytes: 0 };
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => {
      stats.bytes += c.length;
    });
    req.on('end', () => {
      stats.requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stats, server };
}

async function spanCounter(gw: GatewayChild, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${gw.port}/metrics`)).text();
  const m = new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? 0 : s.length % 2 === 1 ? (s[mid] as number) : round3(((s[mid - 1] as number) + (s[mid] as number)) / 2);
};
const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

/** Each gateway's median CPU per turn over its rounds, and on ÷ off; undefined when a round has no CPU figure. */
function cpuSummary(rounds: Round[]): TracingBenchResult['cpuPerTurn'] {
  const of = (tracing: boolean, key: 'cpuUsPerTurn' | 'mainCpuUsPerTurn'): number[] | undefined => {
    const xs = rounds.filter((r) => r.tracing === tracing).map((r) => r[key]);
    return xs.some((x) => x === undefined) ? undefined : (xs as number[]);
  };
  const [off, on, mainOff, mainOn] = [of(false, 'cpuUsPerTurn'), of(true, 'cpuUsPerTurn'), of(false, 'mainCpuUsPerTurn'), of(true, 'mainCpuUsPerTurn')];
  if (off === undefined || on === undefined || mainOff === undefined || mainOn === undefined) return undefined;
  const ratio = (a: number, b: number): number => (b === 0 ? 0 : round3(a / b));
  const [offUs, onUs, mainOffUs, mainOnUs] = [median(off), median(on), median(mainOff), median(mainOn)];
  return { offUs, onUs, onOverOff: ratio(onUs, offUs), mainOffUs, mainOnUs, mainOnOverOff: ratio(mainOnUs, mainOffUs) };
}

export async function runTracingBench(o: TracingBenchOptions, log: (line: string) => void): Promise<TracingBenchResult> {
  const startedAt = new Date().toISOString();
  const collector = await discardingCollector();
  const store: Record<string, string> = o.store === undefined ? {} : { TROUPE_STORE: o.store };
  const provider = o.provider ?? 'openai';
  const children: Child[] = [];
  try {
    let config: object | undefined;
    let agent = BENCH_AGENT;
    if (provider === 'openai') {
      log('starting the fake OpenAI upstream…');
      const upstream = await startFakeUpstream();
      children.push(upstream);
      config = proxyConfig(upstream.port);
      agent = PROXY_AGENT;
    }
    const withConfig = config === undefined ? {} : { config };
    log('starting the gateway without tracing…');
    const off = await startGatewayProcess({ env: { ...store, OTEL_SDK_DISABLED: 'true' }, ...withConfig });
    children.push(off);
    log('starting the gateway with tracing (always_on, OTLP http/protobuf)…');
    const on = await startGatewayProcess({
      env: { ...store, OTEL_SDK_DISABLED: 'false', OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_TRACES_SAMPLER: 'always_on' },
      ...withConfig,
    });
    children.push(on);
    const load = (gw: GatewayChild, durationMs: number, warmupMs: number) => runWsBench({
      url: `ws://127.0.0.1:${gw.port}/ws`, conns: o.conns, durationMs, warmupMs, scenario: 'chat', rate: 0,
      rampPerSec: 0, payload: 0, token: gw.token, agent, echo: false, drainMs: 10_000, connectTimeoutMs: 10_000,
      metricsUrl: '', soak: false, leakThresholdBytes: 0,
    });
    // One unmeasured round each first: the traced gateway has the SDK and the exporter to load and compile.
    log('warm-up round (not measured)');
    for (const gw of [off, on]) await load(gw, Math.max(o.warmupMs, 1_000), 0);
    const rounds: Round[] = [];
    for (let i = 0; i < o.rounds; i++) {
      // Alternate which goes first, so a drift in the machine's load does not favour one side.
      const order = i % 2 === 0 ? [[false, off], [true, on]] as const : [[true, on], [false, off]] as const;
      for (const [tracing, gw] of order) {
        log(`round ${i + 1}/${o.rounds}: tracing ${tracing ? 'on' : 'off'}`);
        const cpu0 = processCpuSeconds(gw.pid);
        const main0 = threadCpuSeconds(gw.pid, gw.pid);
        const r = await load(gw, o.durationMs, o.warmupMs);
        const cpu1 = processCpuSeconds(gw.pid);
        const main1 = threadCpuSeconds(gw.pid, gw.pid);
        const turns = r.requests.completed + r.requests.warmup;
        const perTurn = (a: number | undefined, b: number | undefined): number | undefined => (
          a === undefined || b === undefined || turns === 0 ? undefined : Math.round(((b - a) * 1e6) / turns));
        const cpuUsPerTurn = perTurn(cpu0, cpu1);
        const mainCpuUsPerTurn = perTurn(main0, main1);
        rounds.push({
          tracing, turnsPerSec: r.requests.perSec, p50Ms: r.latency.p50, p99Ms: r.latency.p99, failed: r.requests.failed,
          ...(cpuUsPerTurn === undefined ? {} : { cpuUsPerTurn }), ...(mainCpuUsPerTurn === undefined ? {} : { mainCpuUsPerTurn }),
        });
      }
    }
    const offs = rounds.filter((r) => !r.tracing).map((r) => r.turnsPerSec);
    const ons = rounds.filter((r) => r.tracing).map((r) => r.turnsPerSec);
    const offTurnsPerSec = mean(offs);
    const onTurnsPerSec = mean(ons);
    const roundRatios = ons.map((on, i) => round3(offs[i] === 0 ? 0 : on / (offs[i] as number)));
    const cpuPerTurn = cpuSummary(rounds);
    // Let the last batches go out before reading the counters.
    await new Promise((r) => setTimeout(r, 2_000));
    return {
      kind: 'tracing',
      startedAt,
      options: { ...o, store: o.store ?? 'pglite', provider },
      rounds,
      offTurnsPerSec: round3(offTurnsPerSec),
      onTurnsPerSec: round3(onTurnsPerSec),
      ratio: offTurnsPerSec === 0 ? 0 : round3(onTurnsPerSec / offTurnsPerSec),
      roundRatios,
      medianRoundRatio: median(roundRatios),
      ...(cpuPerTurn === undefined ? {} : { cpuPerTurn }),
      collector: { ...collector.stats },
      spans: {
        exported: await spanCounter(on, 'troupe_trace_spans_exported_total'),
        droppedQueueFull: await spanCounter(on, 'troupe_trace_spans_dropped_total', '{reason="queue_full"}'),
        droppedExportFailed: await spanCounter(on, 'troupe_trace_spans_dropped_total', '{reason="export_failed"}'),
      },
    };
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await new Promise((resolve) => collector.server.close(resolve));
  }
}
