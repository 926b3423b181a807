/**
 * `troupe bench ws`: splits the run over shards, ramps them all, starts them
 * on a common clock, scrapes the target's /metrics meanwhile, optionally
 * kills a worker mid-load, and merges everything into one BenchResult.
 */
import { mergeHistograms, summarize } from '../common/histogram.js';
import { LiveProgress } from '../common/progress.js';
import { cpuPercent, loopbackUrl } from '../common/target.js';
import { intervalMsFor, mergeTimelines } from '../common/timeline.js';
import { MetricsSampler, metricsUrlOf } from '../metrics/sampler.js';
import { soakVerdict } from '../metrics/soak.js';
import { PHASES, RESULT_SCHEMA, type BenchResult, type FaultReport, type Phase } from '../report/result.js';
import { injectWorkerKill, type FaultAnswer } from './fault.js';
import { shardCount, split, type ShardOptions, type WsBenchOptions } from './options.js';
import type { ShardProgress, ShardResult } from './shard.js';
import { childShard, localShard, type ShardHandle } from './shard_process.js';

/** Head start so every shard is waiting before the common clock starts. */
const START_DELAY_MS = 200;

export async function runWsBench(o: WsBenchOptions): Promise<BenchResult> {
  loopbackUrl(o.url, ['ws:', 'wss:']);
  const n = shardCount(o);
  const connsPer = split(o.conns, n);
  const intervalMs = intervalMsFor(o.durationMs);
  const shardOptions: ShardOptions[] = connsPer.map((conns, i) => ({
    url: o.url, conns, durationMs: o.durationMs, warmupMs: o.warmupMs, scenario: o.scenario,
    rate: o.rate / n, rampPerSec: o.rampPerSec / n, payload: o.payload, token: o.token, agent: o.agent, echo: o.echo,
    drainMs: o.drainMs, connectTimeoutMs: o.connectTimeoutMs, intervalMs,
    sessionPrefix: `bench-${process.pid}-${Date.now().toString(36)}-${i}`,
  }));
  const progress: ShardProgress[] = shardOptions.map(() => ({ phase: 'setup', open: 0, completed: 0, errors: 0, p99Ms: 0 }));
  const metricsUrl = o.metricsUrl === undefined ? metricsUrlOf(o.url) : o.metricsUrl === '' ? undefined : o.metricsUrl;
  const sampler = new MetricsSampler(metricsUrl, o.soak ? 5_000 : 1_000);
  const phaseOf = (): Phase => PHASES[Math.min(...progress.map((p) => PHASES.indexOf(p.phase)))];
  const shards: ShardHandle[] = shardOptions.map((so, i) => {
    const onProgress = (p: ShardProgress) => {
      progress[i] = p;
      sampler.phase = phaseOf();
    };
    return n === 1 ? localShard(so, onProgress) : childShard(so, onProgress);
  });
  const live = new LiveProgress(`ws ${o.scenario}`, () => ({
    phase: phaseOf(),
    open: progress.reduce((a, p) => a + p.open, 0),
    completed: progress.reduce((a, p) => a + p.completed, 0),
    errors: progress.reduce((a, p) => a + p.errors, 0),
    p99Ms: Math.max(...progress.map((p) => p.p99Ms)),
  }));
  const startedAt = new Date().toISOString();
  let fault: { at: number; answer: Promise<FaultAnswer> } | undefined;
  let faultTimer: NodeJS.Timeout | undefined;
  try {
    await sampler.scrape();
    sampler.start();
    live.start();
    await Promise.all(shards.map((s) => s.ramp()));
    const startAt = Date.now() + START_DELAY_MS;
    if (o.fault === 'worker-kill') {
      const atSec = o.faultAtSec ?? o.durationMs / 2000;
      faultTimer = setTimeout(() => {
        const answer = injectWorkerKill(o.url, o.token);
        answer.catch(() => undefined);
        fault = { at: atSec, answer };
      }, startAt + o.warmupMs + atSec * 1000 - Date.now());
    }
    const results = await Promise.all(shards.map((s) => s.run(startAt)));
    sampler.phase = 'done';
    await sampler.scrape();
    const result = merge(o, results, intervalMs, startedAt, sampler);
    if (o.fault === 'worker-kill') result.fault = await faultReport(fault, result);
    return result;
  } finally {
    if (faultTimer !== undefined) clearTimeout(faultTimer);
    live.stop();
    await sampler.stop();
    for (const s of shards) s.stop();
  }
}

async function faultReport(f: { at: number; answer: Promise<FaultAnswer> } | undefined, r: BenchResult): Promise<FaultReport> {
  if (f === undefined) throw Object.assign(new Error('the run ended before the fault was injected'), { code: 'INVALID_REQUEST' });
  const a = await f.answer;
  const { completed, retryable, failed, lost } = r.requests;
  return { kind: 'worker-kill', killedHost: a.host, replacementMs: a.replacementMs, atSec: f.at, completed, retryable, failed, lost };
}

function merge(o: WsBenchOptions, rs: ShardResult[], intervalMs: number, startedAt: string, sampler: MetricsSampler): BenchResult {
  const sum = (f: (r: ShardResult) => number) => rs.reduce((a, r) => a + f(r), 0);
  const errors: Record<string, number> = {};
  for (const r of rs) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  const badFrames = sum((r) => r.badFrames);
  if (badFrames > 0) errors.bad_frame = badFrames;
  const hist = mergeHistograms(rs.map((r) => r.hist));
  const ttft = mergeHistograms(rs.map((r) => r.ttft));
  const connect = mergeHistograms(rs.map((r) => r.connectHist));
  const opened = sum((r) => r.opened);
  const completed = sum((r) => r.counts.completed);
  const result: BenchResult = {
    schema: RESULT_SCHEMA,
    kind: 'ws',
    name: o.scenario === 'idle' ? 'ws idle' : `ws ${o.scenario} ${o.rate > 0 ? `open ${o.rate}/s` : 'closed'}`,
    target: o.url,
    startedAt,
    settings: {
      conns: o.conns, durationMs: o.durationMs, warmupMs: o.warmupMs, scenario: o.scenario,
      mode: o.rate > 0 ? 'open' : 'closed', rate: o.rate, rampPerSec: o.rampPerSec, payload: o.payload, procs: rs.length,
      ...(o.agent !== undefined ? { agent: o.agent } : {}), echo: o.echo,
    },
    measuredMs: o.durationMs,
    requests: {
      sent: sum((r) => r.counts.sent), completed, failed: sum((r) => r.counts.failed), retryable: sum((r) => r.counts.retryable),
      lost: sum((r) => r.counts.lost), perSec: Math.round((completed / o.durationMs) * 1000 * 10) / 10, warmup: sum((r) => r.counts.warmup),
    },
    latency: summarize(hist),
    ...(ttft.totalCount > 0 ? { ttft: summarize(ttft) } : {}),
    connections: { target: o.conns, opened, failed: sum((r) => r.connFailed), connectLatency: summarize(connect) },
    errors,
    timeline: mergeTimelines(rs.map((r) => r.timeline), intervalMs, o.durationMs),
    // RSS per connection is only meaningful when the connections are all the load
    server: sampler.summary(o.scenario === 'idle' ? opened : 0),
    client: { processes: rs.length, cpuPercent: cpuPercent(sum((r) => r.cpuUs), o.durationMs) },
  };
  for (const h of [hist, ttft, connect]) h.destroy();
  if (o.soak) result.soak = soakVerdict(result.server.samples, o.leakThresholdBytes);
  return result;
}
