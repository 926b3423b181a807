/**
 * `troupe bench http`: load against /v1/chat/completions, streaming or not.
 * Closed loop (`--rate 0`) is autocannon, one request in flight per
 * connection. Open loop (`--rate R`) is the paced client (paced.ts): one
 * arrival every 1000/R ms on any free connection, latency from the scheduled
 * time. Every answer is verified (a whole completion, or an SSE stream ending
 * in [DONE]); for streams the time to the first content chunk is recorded.
 */
import { newHistogram, recordUs, summarize, type Histogram } from '../common/histogram.js';
import { LiveProgress } from '../common/progress.js';
import { cpuPercent, loopbackUrl } from '../common/target.js';
import { intervalMsFor, mergeTimelines, TimelineRecorder } from '../common/timeline.js';
import { MetricsSampler, metricsUrlOf } from '../metrics/sampler.js';
import { soakVerdict } from '../metrics/soak.js';
import { RESULT_SCHEMA, type BenchResult, type RequestCounts } from '../report/result.js';
import { runAutocannon, type AutocannonClient, type AutocannonOptions } from './autocannon.js';
import { chatBody, verifyBody, type HttpBenchOptions } from './options.js';
import { PacedConnections, runPaced, type PacedOutcome } from './paced.js';

const CONTENT = /"content":"[^"]/;
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

type Counts = Omit<RequestCounts, 'perSec'>;

/** What the run shares with its driver: where answers are tallied. */
interface Tally {
  counts: Counts;
  hist: Histogram;
  ttft: Histogram;
  errors: Record<string, number>;
  /** Set once the measured window starts (undefined during warm-up). */
  timeline?: TimelineRecorder;
}

/** What a driver measured: the window's length and the settings it adds. */
interface Measured {
  measuredMs: number;
  settings: Record<string, string | number | boolean>;
}

function addError(t: Tally, code: string): void {
  t.errors[code] = (t.errors[code] ?? 0) + 1;
}

/** An answer that came back (or failed verification), in the measured window. */
function tallyAnswer(t: Tally, status: number, verdict: string | undefined, latencyMs: number): void {
  if (verdict === undefined) {
    t.counts.completed++;
    recordUs(t.hist, latencyMs * 1000);
    t.timeline?.completed(Date.now(), latencyMs * 1000);
    return;
  }
  if (RETRYABLE_STATUS.has(status)) t.counts.retryable++;
  else t.counts.failed++;
  addError(t, verdict);
  t.timeline?.error(Date.now());
}

function tallyLost(t: Tally, code: 'timeout' | 'connection'): void {
  t.counts.lost++;
  addError(t, code);
  t.timeline?.error(Date.now());
}

const verdictOf = (status: number, text: string, stream: boolean): string | undefined =>
  status < 200 || status >= 300 ? `HTTP_${status}` : verifyBody(text, stream) ? undefined : 'verify';

const requestHeaders = (o: HttpBenchOptions): Record<string, string> =>
  ({ 'content-type': 'application/json', ...(o.token !== undefined ? { authorization: `Bearer ${o.token}` } : {}) });

/**
 * Closed loop: autocannon, warm-up as a separate run before the measured one.
 * The window opens only once the target has answered: if the timed warm-up got
 * fewer verified answers than there are connections, one more request per
 * connection is run to its answer (each bounded by the request timeout). A
 * fresh gateway loads what its first requests need (modules on the workers,
 * the provider's connection, the store's first queries); on a loaded machine
 * that can outlast any fixed warm-up, and the window would measure start-up.
 */
async function measureClosed(o: HttpBenchOptions, origin: string, t: Tally, startWindow: () => void): Promise<Measured> {
  let measuring = false;
  // onResponse and the 'response' event fire back to back for the same answer
  let verdict: string | undefined;
  const body = chatBody(o);
  const opts = (durationMs: number): AutocannonOptions => ({
    url: `${origin}${o.path}`,
    connections: o.conns,
    duration: durationMs / 1000,
    timeout: o.timeoutSec,
    requests: [{
      method: 'POST', path: o.path, body, headers: requestHeaders(o),
      onResponse: (status, text) => {
        verdict = verdictOf(status, text, o.stream);
      },
    }],
    setupClient: (client: AutocannonClient) => {
      let start = 0;
      let first = false;
      client.on('request', () => {
        if (measuring) t.counts.sent++;
        else t.counts.warmup++;
        start = performance.now();
        first = false;
      });
      if (!o.stream) return;
      client.on('body', (chunk: Buffer) => {
        if (first || !measuring) return;
        if (CONTENT.test(chunk.toString('latin1'))) {
          first = true;
          recordUs(t.ttft, (performance.now() - start) * 1000);
        }
      });
    },
  });
  let warmAnswers = 0;
  const warmUp = (extra: Partial<AutocannonOptions>) => runAutocannon({ ...opts(o.warmupMs), ...extra }, (tracker) => {
    tracker.on('response', () => {
      if (verdict === undefined) warmAnswers++;
      verdict = undefined;
    });
  });
  if (o.warmupMs > 0) {
    await warmUp({});
    if (warmAnswers < o.conns) await warmUp({ amount: o.conns });
  }
  verdict = undefined;
  measuring = true;
  startWindow();
  const t0 = Date.now();
  const result = await runAutocannon(opts(o.durationMs), (tracker) => {
    tracker.on('response', (_c: unknown, status: number, _bytes: number, ms: number) => {
      const v = verdict;
      verdict = undefined;
      tallyAnswer(t, status, v, ms);
    });
    tracker.on('reqError', (err: Error) => tallyLost(t, err.message === 'request timed out' ? 'timeout' : 'connection'));
  });
  const measuredMs = Date.now() - t0;
  // autocannon cancels the requests in flight when the window ends: they were never answered
  // inside it, so they are left out of `sent` (and reported as cutOffAtEnd).
  const answered = t.counts.completed + t.counts.failed + t.counts.retryable + t.counts.lost;
  const cutOff = Math.max(0, t.counts.sent - answered);
  t.counts.sent = answered;
  return { measuredMs, settings: { client: 'autocannon', warmupAnswered: warmAnswers, cutOffAtEnd: cutOff, autocannonTotal: result.requests.total } };
}

const ms3 = (us: number): number => Math.round(us) / 1000;

/**
 * Open loop: the paced client, warm-up and measured window on the same
 * connections. Every scheduled arrival gets an outcome (the window drains),
 * so `sent` is exactly rate × duration.
 */
async function measurePaced(o: HttpBenchOptions, origin: string, t: Tally, startWindow: () => void): Promise<Measured> {
  const pool = new PacedConnections(origin, o.conns);
  // from the send, not the schedule: what the server took, without the client's timer slack or backlog wait
  const service = newHistogram();
  const base = {
    rate: o.rate, timeoutMs: o.timeoutSec * 1000,
    request: { method: 'POST' as const, path: o.path, headers: requestHeaders(o), body: chatBody(o) },
    ...(o.stream ? { isFirst: (chunk: Buffer) => CONTENT.test(chunk.toString('latin1')) } : {}),
  };
  try {
    const warmups = Math.round((o.rate * o.warmupMs) / 1000);
    if (warmups > 0) {
      const w = await runPaced(pool, { ...base, count: warmups, onOutcome: () => undefined });
      t.counts.warmup = w.sent;
      w.sendLag.destroy();
    }
    startWindow();
    const t0 = Date.now();
    const onOutcome = (out: PacedOutcome) => {
      if (out.error !== undefined) return tallyLost(t, out.error);
      recordUs(service, (out.endAt - out.sentAt) * 1000);
      tallyAnswer(t, out.status, verdictOf(out.status, out.body, o.stream), out.endAt - out.scheduledAt);
      if (out.firstAt > 0) recordUs(t.ttft, (out.firstAt - out.scheduledAt) * 1000);
    };
    const s = await runPaced(pool, { ...base, count: Math.max(1, Math.round((o.rate * o.durationMs) / 1000)), onOutcome });
    const measuredMs = Date.now() - t0;
    // requests that expired in the backlog were scheduled but never went out
    t.counts.sent = s.sent + s.expired;
    const lag = s.sendLag;
    const settings = {
      client: 'paced', intervalMs: Math.round(1_000_000 / o.rate) / 1000, late: s.late, maxBacklog: s.maxBacklog, expired: s.expired,
      sendLagP50Ms: ms3(lag.getValueAtPercentile(50)), sendLagP99Ms: ms3(lag.getValueAtPercentile(99)), sendLagMaxMs: ms3(lag.getValueAtPercentile(100)),
      serviceP50Ms: ms3(service.getValueAtPercentile(50)), serviceP99Ms: ms3(service.getValueAtPercentile(99)),
    };
    lag.destroy();
    return { measuredMs, settings };
  } finally {
    service.destroy();
    await pool.close();
  }
}

export async function runHttpBench(o: HttpBenchOptions): Promise<BenchResult> {
  const base = loopbackUrl(o.url, ['http:', 'https:']);
  const metricsUrl = o.metricsUrl === undefined ? metricsUrlOf(o.url) : o.metricsUrl === '' ? undefined : o.metricsUrl;
  const sampler = new MetricsSampler(metricsUrl, o.soak ? 5_000 : 1_000);
  const intervalMs = intervalMsFor(o.durationMs);
  const t: Tally = {
    counts: { sent: 0, completed: 0, failed: 0, retryable: 0, lost: 0, warmup: 0 },
    hist: newHistogram(), ttft: newHistogram(), errors: {},
  };
  const live = new LiveProgress(`http ${o.stream ? 'stream' : 'json'}`, () => ({
    phase: sampler.phase, open: o.conns, completed: t.counts.completed,
    errors: t.counts.failed + t.counts.retryable + t.counts.lost, p99Ms: summarize(t.hist).p99,
  }));
  const startedAt = new Date().toISOString();
  let cpu0 = process.cpuUsage();
  const startWindow = () => {
    sampler.phase = 'measure';
    t.timeline = new TimelineRecorder(Date.now(), intervalMs);
    cpu0 = process.cpuUsage();
  };
  try {
    await sampler.scrape();
    sampler.start();
    live.start();
    if (o.warmupMs > 0) sampler.phase = 'warmup';
    const m = await (o.rate > 0 ? measurePaced : measureClosed)(o, base.origin, t, startWindow);
    const cpu = process.cpuUsage(cpu0);
    sampler.phase = 'done';
    await sampler.scrape();
    const timeline = t.timeline?.export() ?? [];
    const r: BenchResult = {
      schema: RESULT_SCHEMA,
      kind: 'http',
      name: `http ${o.stream ? 'stream' : 'json'} ${o.rate > 0 ? `open ${o.rate}/s` : 'closed'}`,
      target: `${base.origin}${o.path}`,
      startedAt,
      settings: {
        conns: o.conns, durationMs: o.durationMs, warmupMs: o.warmupMs, rate: o.rate, stream: o.stream, payload: o.payload,
        model: o.model, ...m.settings,
      },
      measuredMs: m.measuredMs,
      requests: { ...t.counts, perSec: Math.round((t.counts.completed / m.measuredMs) * 10_000) / 10 },
      latency: summarize(t.hist),
      ...(o.stream ? { ttft: summarize(t.ttft) } : {}),
      connections: { target: o.conns, opened: o.conns, failed: 0 },
      errors: t.errors,
      timeline: mergeTimelines([timeline], intervalMs, m.measuredMs),
      server: sampler.summary(0),
      client: { processes: 1, cpuPercent: cpuPercent(cpu.user + cpu.system, m.measuredMs) },
    };
    if (o.soak) r.soak = soakVerdict(r.server.samples, o.leakThresholdBytes);
    return r;
  } finally {
    live.stop();
    await sampler.stop();
    t.hist.destroy();
    t.ttft.destroy();
  }
}
