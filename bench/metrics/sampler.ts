/**
 * Scrapes the target's /metrics on an interval while a run is going. A
 * target without /metrics (a reference server) just yields no samples; a
 * scrape failure is counted, never fatal.
 */
import type { Phase, ServerSample, ServerSummary } from '../report/result.js';
import { parseMetrics } from './prometheus.js';

const MAX_SAMPLES = 20_000;
const SCRAPE_TIMEOUT_MS = 2_000;

export class MetricsSampler {
  readonly samples: ServerSample[] = [];
  scrapeErrors = 0;
  phase: Phase = 'setup';
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private readonly t0 = Date.now();
  /** Set when the measured window starts (ms since epoch). */
  measureStartMs: number | undefined;

  constructor(
    private readonly url: string | undefined,
    private readonly intervalMs = 1_000,
  ) {}

  start(): void {
    if (this.url === undefined || this.timer !== undefined) return;
    this.timer = setInterval(() => void this.scrape(), this.intervalMs);
    this.timer.unref();
  }

  /** One scrape now (skipped if one is already running). */
  scrape(): Promise<void> {
    if (this.url === undefined) return Promise.resolve();
    this.inflight ??= this.scrapeOnce(this.url).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async scrapeOnce(url: string): Promise<void> {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`status ${res.status}`);
      const values = parseMetrics(await res.text());
      if (Object.keys(values).length === 0) throw new Error('no known series');
      if (this.samples.length >= MAX_SAMPLES) this.samples.splice(0, 1);
      this.samples.push({ t: Math.round(Date.now() - this.t0) / 1000, phase: this.phase, ...values });
    } catch {
      this.scrapeErrors++;
    }
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.inflight;
  }

  /** The summary over the samples; `opened` connections for RSS per connection. */
  summary(opened: number): ServerSummary {
    const s = this.samples;
    const out: ServerSummary = { samples: s, scrapeErrors: this.scrapeErrors };
    const rss = s.filter((x) => x.rssBytes !== undefined);
    if (rss.length > 0) {
      const before = rss.filter((x) => x.phase === 'setup');
      out.rssStartBytes = (before.length > 0 ? before[before.length - 1] : rss[0]).rssBytes;
      out.rssPeakBytes = Math.max(...rss.map((x) => x.rssBytes ?? 0));
      out.rssEndBytes = rss[rss.length - 1].rssBytes;
      const measured = rss.filter((x) => x.phase === 'measure');
      if (measured.length > 0 && before.length > 0 && opened > 0) {
        const mean = measured.reduce((a, x) => a + (x.rssBytes ?? 0), 0) / measured.length;
        out.rssPerConnBytes = Math.round((mean - (out.rssStartBytes ?? 0)) / opened);
      }
    }
    const cpu = s.filter((x) => x.phase === 'measure' && x.cpuSeconds !== undefined);
    if (cpu.length >= 2) {
      const a = cpu[0];
      const b = cpu[cpu.length - 1];
      if (b.t > a.t) out.cpuPercent = Math.round((((b.cpuSeconds ?? 0) - (a.cpuSeconds ?? 0)) / (b.t - a.t)) * 1000) / 10;
    }
    const lag = s.map((x) => x.eventLoopLagMs).filter((v): v is number => v !== undefined);
    if (lag.length > 0) out.eventLoopLagMaxMs = Math.max(...lag);
    const depth = s.map((x) => x.mailboxDepth).filter((v): v is number => v !== undefined);
    if (depth.length > 0) out.mailboxDepthMax = Math.max(...depth);
    const repl = s.map((x) => x.workerReplacements).filter((v): v is number => v !== undefined);
    if (repl.length > 0) out.workerReplacements = Math.max(...repl) - Math.min(...repl);
    return out;
  }
}

/** The /metrics URL on the same host and port as a ws:// or http:// target. */
export function metricsUrlOf(target: string): string {
  const u = new URL(target);
  const scheme = u.protocol === 'wss:' || u.protocol === 'https:' ? 'https:' : 'http:';
  return `${scheme}//${u.host}/metrics`;
}
