/**
 * `troupe bench http`: autocannon against /v1/chat/completions, streaming or
 * not. Every answer is verified (a whole completion, or an SSE stream ending
 * in [DONE]); for streams the time to the first content chunk is recorded.
 */
import { newHistogram, recordUs, summarize } from '../common/histogram.js';
import { LiveProgress } from '../common/progress.js';
import { cpuPercent, loopbackUrl } from '../common/target.js';
import { intervalMsFor, mergeTimelines, TimelineRecorder } from '../common/timeline.js';
import { MetricsSampler, metricsUrlOf } from '../metrics/sampler.js';
import { soakVerdict } from '../metrics/soak.js';
import { RESULT_SCHEMA, type BenchResult } from '../report/result.js';
import { runAutocannon, type AutocannonClient, type AutocannonOptions } from './autocannon.js';
import { chatBody, verifyBody, type HttpBenchOptions } from './options.js';

const CONTENT = /"content":"[^"]/;
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

export async function runHttpBench(o: HttpBenchOptions): Promise<BenchResult> {
  const base = loopbackUrl(o.url, ['http:', 'https:']);
  const metricsUrl = o.metricsUrl === undefined ? metricsUrlOf(o.url) : o.metricsUrl === '' ? undefined : o.metricsUrl;
  const sampler = new MetricsSampler(metricsUrl, o.soak ? 5_000 : 1_000);
  const hist = newHistogram();
  const ttft = newHistogram();
  const intervalMs = intervalMsFor(o.durationMs);
  const errors: Record<string, number> = {};
  const counts = { sent: 0, completed: 0, failed: 0, retryable: 0, lost: 0, warmup: 0 };
  let measuring = false;
  let timeline: TimelineRecorder | undefined;
  // onResponse and the 'response' event fire back to back for the same answer
  let verdict: string | undefined;
  const addError = (code: string) => {
    errors[code] = (errors[code] ?? 0) + 1;
  };
  const body = chatBody(o);
  const opts = (durationMs: number): AutocannonOptions => ({
    url: `${base.origin}${o.path}`,
    connections: o.conns,
    duration: durationMs / 1000,
    ...(o.rate > 0 ? { overallRate: o.rate } : {}),
    timeout: o.timeoutSec,
    requests: [{
      method: 'POST', path: o.path, body,
      headers: { 'content-type': 'application/json', ...(o.token !== undefined ? { authorization: `Bearer ${o.token}` } : {}) },
      onResponse: (status, text) => {
        verdict = status < 200 || status >= 300 ? `HTTP_${status}` : verifyBody(text, o.stream) ? undefined : 'verify';
      },
    }],
    setupClient: (client: AutocannonClient) => {
      let start = 0;
      let first = false;
      client.on('request', () => {
        if (measuring) counts.sent++;
        else counts.warmup++;
        start = performance.now();
        first = false;
      });
      if (!o.stream) return;
      client.on('body', (chunk: Buffer) => {
        if (first || !measuring) return;
        if (CONTENT.test(chunk.toString('latin1'))) {
          first = true;
          recordUs(ttft, (performance.now() - start) * 1000);
        }
      });
    },
  });
  const live = new LiveProgress(`http ${o.stream ? 'stream' : 'json'}`, () => ({
    phase: sampler.phase, open: o.conns, completed: counts.completed,
    errors: counts.failed + counts.retryable + counts.lost, p99Ms: summarize(hist).p99,
  }));
  const startedAt = new Date().toISOString();
  try {
    await sampler.scrape();
    sampler.start();
    live.start();
    if (o.warmupMs > 0) {
      sampler.phase = 'warmup';
      await runAutocannon(opts(o.warmupMs), () => undefined);
    }
    sampler.phase = 'measure';
    measuring = true;
    const t0 = Date.now();
    timeline = new TimelineRecorder(t0, intervalMs);
    const cpu0 = process.cpuUsage();
    const tl = timeline;
    const result = await runAutocannon(opts(o.durationMs), (tracker) => {
      tracker.on('response', (_c: unknown, status: number, _bytes: number, ms: number) => {
        const v = verdict;
        verdict = undefined;
        if (v === undefined) {
          counts.completed++;
          recordUs(hist, ms * 1000);
          tl.completed(Date.now(), ms * 1000);
          return;
        }
        if (RETRYABLE_STATUS.has(status)) counts.retryable++;
        else counts.failed++;
        addError(v);
        tl.error(Date.now());
      });
      tracker.on('reqError', (err: Error) => {
        counts.lost++;
        addError(err.message === 'request timed out' ? 'timeout' : 'connection');
        tl.error(Date.now());
      });
    });
    const cpu = process.cpuUsage(cpu0);
    measuring = false;
    const measuredMs = Date.now() - t0;
    sampler.phase = 'done';
    await sampler.scrape();
    // autocannon cancels the requests in flight when the window ends: they were never answered
    // inside it, so they are left out of `sent` (and reported as cutOffAtEnd).
    const answered = counts.completed + counts.failed + counts.retryable + counts.lost;
    const cutOff = Math.max(0, counts.sent - answered);
    counts.sent = answered;
    const r: BenchResult = {
      schema: RESULT_SCHEMA,
      kind: 'http',
      name: `http ${o.stream ? 'stream' : 'json'} ${o.rate > 0 ? `open ${o.rate}/s` : 'closed'}`,
      target: `${base.origin}${o.path}`,
      startedAt,
      settings: {
        conns: o.conns, durationMs: o.durationMs, warmupMs: o.warmupMs, rate: o.rate, stream: o.stream, payload: o.payload,
        model: o.model, cutOffAtEnd: cutOff, autocannonTotal: result.requests.total,
      },
      measuredMs,
      requests: { ...counts, perSec: Math.round((counts.completed / measuredMs) * 10_000) / 10 },
      latency: summarize(hist),
      ...(o.stream ? { ttft: summarize(ttft) } : {}),
      connections: { target: o.conns, opened: o.conns, failed: 0 },
      errors,
      timeline: mergeTimelines([timeline.export()], intervalMs, measuredMs),
      server: sampler.summary(0),
      client: { processes: 1, cpuPercent: cpuPercent(cpu.user + cpu.system, measuredMs) },
    };
    if (o.soak) r.soak = soakVerdict(r.server.samples, o.leakThresholdBytes);
    return r;
  } finally {
    live.stop();
    await sampler.stop();
    hist.destroy();
    ttft.destroy();
  }
}
