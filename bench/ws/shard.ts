/**
 * The load loop of one process: opens its connections (at the ramp rate),
 * waits for the common start, then drives requests closed- or open-loop
 * until the window closes, drains, and hands back exact counts and encoded
 * histograms for the parent to merge.
 */
import { encodeHistogram, newHistogram, recordUs, summarize } from '../common/histogram.js';
import { TimelineRecorder, type IntervalData } from '../common/timeline.js';
import type { Phase } from '../report/result.js';
import { BenchConnection, type Outcome } from './connection.js';
import type { ShardOptions } from './options.js';

export interface ShardCounts {
  sent: number;
  completed: number;
  failed: number;
  retryable: number;
  lost: number;
  warmup: number;
}

export interface ShardResult {
  counts: ShardCounts;
  errors: Record<string, number>;
  opened: number;
  connFailed: number;
  hist: string;
  ttft: string;
  connectHist: string;
  timeline: IntervalData[];
  cpuUs: number;
  badFrames: number;
}

export interface ShardProgress {
  phase: Phase;
  open: number;
  completed: number;
  errors: number;
  p99Ms: number;
}

/** Opens at most this many connections at once, so a ramp never turns into a SYN flood. */
const MAX_OPENING = 256;
/** Open loop: never issue more than this many requests in one tick (bounds a catch-up burst). */
const MAX_PER_TICK = 5_000;
const TICK_MS = 2;
const MAX_RETRY_WAIT_MS = 1_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const epochNow = () => performance.timeOrigin + performance.now();

export class Shard {
  private readonly conns: BenchConnection[] = [];
  private readonly hist = newHistogram();
  private readonly ttft = newHistogram();
  private readonly connectHist = newHistogram();
  private readonly counts: ShardCounts = { sent: 0, completed: 0, failed: 0, retryable: 0, lost: 0, warmup: 0 };
  private readonly errors: Record<string, number> = {};
  private connFailed = 0;
  private open = 0;
  private phase: Phase = 'setup';
  private timeline: TimelineRecorder | undefined;
  private measureStart = Infinity;
  private end = Infinity;
  private inflight = 0;

  constructor(
    private readonly o: ShardOptions,
    private readonly onProgress: (p: ShardProgress) => void = () => undefined,
  ) {}

  private addError(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  progress(): ShardProgress {
    return {
      phase: this.phase, open: this.open, completed: this.counts.completed,
      errors: this.counts.failed + this.counts.retryable + this.counts.lost + this.connFailed,
      p99Ms: summarize(this.hist).p99,
    };
  }

  /** Opens and authenticates every connection. Never rejects: failures are counted. */
  async ramp(): Promise<{ opened: number; failed: number }> {
    this.phase = 'ramp';
    const ticker = setInterval(() => this.onProgress(this.progress()), 1_000);
    const start = performance.now();
    const opening = new Set<Promise<void>>();
    for (let i = 0; i < this.o.conns; i++) {
      if (this.o.rampPerSec > 0) {
        const wait = start + (i * 1000) / this.o.rampPerSec - performance.now();
        if (wait > 0) await sleep(wait);
      }
      while (opening.size >= MAX_OPENING) await Promise.race(opening);
      const p = this.openOne().finally(() => opening.delete(p));
      opening.add(p);
    }
    await Promise.all(opening);
    clearInterval(ticker);
    this.onProgress(this.progress());
    return { opened: this.open, failed: this.connFailed };
  }

  private async openOne(): Promise<void> {
    const conn = new BenchConnection(this.o.url, this.o.echo, () => {
      this.open--;
      this.addError('closed');
    });
    const t0 = performance.now();
    try {
      await conn.open(this.o.token, this.o.connectTimeoutMs);
      recordUs(this.connectHist, (performance.now() - t0) * 1000);
      this.conns.push(conn);
      this.open++;
    } catch (err) {
      this.connFailed++;
      this.addError(`connect:${(err as { code?: string }).code ?? 'error'}`);
    }
  }

  /** Runs the warm-up and measured window starting at `startAt` (epoch ms), then drains. */
  async run(startAt: number): Promise<ShardResult> {
    const { o } = this;
    const wait = startAt - epochNow();
    if (wait > 0) await sleep(wait);
    // timers may fire a little early; the window must not start before startAt
    for (let i = 0; i < 100 && epochNow() < startAt; i++) await sleep(1);
    this.measureStart = startAt + o.warmupMs;
    this.end = this.measureStart + o.durationMs;
    this.timeline = new TimelineRecorder(this.measureStart, o.intervalMs);
    this.phase = o.warmupMs > 0 ? 'warmup' : 'measure';
    const cpu0 = process.cpuUsage();
    let cpuAtMeasure: NodeJS.CpuUsage | undefined;
    const ticker = setInterval(() => {
      const now = epochNow();
      if (this.phase === 'warmup' && now >= this.measureStart) this.phase = 'measure';
      if (cpuAtMeasure === undefined && now >= this.measureStart) cpuAtMeasure = process.cpuUsage();
      this.timeline?.open(now, this.open);
      this.onProgress(this.progress());
    }, 250);
    try {
      if (o.scenario !== 'idle') {
        if (o.rate > 0) await this.openLoop();
        else this.conns.forEach((c, i) => this.closedLoop(c, i));
      }
      const rest = this.end - epochNow();
      if (rest > 0) await sleep(rest);
      cpuAtMeasure ??= cpu0;
      const cpu = process.cpuUsage(cpuAtMeasure);
      this.phase = 'drain';
      const drainUntil = performance.now() + o.drainMs;
      while (this.inflight > 0 && performance.now() < drainUntil) await sleep(10);
      for (const c of this.conns) c.loseAll('drain_timeout');
      this.phase = 'done';
      this.onProgress(this.progress());
      return {
        counts: this.counts,
        errors: this.errors,
        opened: this.conns.length,
        connFailed: this.connFailed,
        hist: encodeHistogram(this.hist),
        ttft: encodeHistogram(this.ttft),
        connectHist: encodeHistogram(this.connectHist),
        timeline: this.timeline.export(),
        cpuUs: cpu.user + cpu.system,
        badFrames: this.conns.reduce((a, c) => a + c.badFrames, 0),
      };
    } finally {
      clearInterval(ticker);
      for (const c of this.conns) c.close();
      for (const h of [this.hist, this.ttft, this.connectHist]) h.destroy();
    }
  }

  private params(index: number): [string, Record<string, unknown>] {
    const sessionKey = `${this.o.sessionPrefix}-${index}`;
    if (this.o.scenario === 'chat') {
      const message = this.o.payload > 0 ? 'x'.repeat(this.o.payload) : 'hello';
      return ['chat.send', { message, sessionKey, ...(this.o.agent !== undefined ? { agent: this.o.agent } : {}) }];
    }
    return ['ping', { sessionKey, ...(this.o.payload > 0 ? { pad: 'x'.repeat(this.o.payload) } : {}) }];
  }

  /** Issues one request; `startedAt` is the intended send time (open loop) so queueing delay counts. */
  private issue(conn: BenchConnection, index: number, startedAt: number, then?: (out: Outcome) => void): void {
    const measured = epochNow() >= this.measureStart;
    if (measured) this.counts.sent++;
    else this.counts.warmup++;
    const [method, params] = this.params(index);
    this.inflight++;
    conn.request(method, params, (out: Outcome) => {
      this.inflight--;
      if (measured) this.record(out, startedAt);
      then?.(out);
    }, startedAt);
  }

  private record(out: Outcome, startedAt: number): void {
    const at = epochNow();
    if (out.kind === 'ok') {
      this.counts.completed++;
      const us = (performance.now() - startedAt) * 1000;
      recordUs(this.hist, us);
      this.timeline?.completed(at, us);
      if (out.ttftMs !== undefined) recordUs(this.ttft, out.ttftMs * 1000);
      return;
    }
    this.counts[out.kind]++;
    this.addError(out.code);
    this.timeline?.error(at);
  }

  private closedLoop(conn: BenchConnection, index: number): void {
    const next = (): void => {
      if (!conn.isOpen || epochNow() >= this.end) return;
      // setImmediate: a synchronous answer must not recurse. A server asking us to wait
      // (RATE_LIMITED with retryAfterMs) is obeyed, up to a second, as a real client would.
      this.issue(conn, index, performance.now(), (out) => {
        const wait = out.kind === 'retryable' ? Math.min(out.retryAfterMs ?? 0, MAX_RETRY_WAIT_MS) : 0;
        if (wait > 0) setTimeout(next, wait);
        else setImmediate(next);
      });
    };
    next();
  }

  private async openLoop(): Promise<void> {
    const perMs = this.o.rate / 1000;
    const t0 = performance.now();
    let issued = 0;
    let rr = 0;
    while (epochNow() < this.end) {
      const due = Math.min(Math.floor((performance.now() - t0) * perMs), issued + MAX_PER_TICK);
      while (issued < due) {
        const intended = t0 + issued / perMs;
        issued++;
        let conn: BenchConnection | undefined;
        for (let k = 0; k < this.conns.length && conn === undefined; k++) {
          const c = this.conns[rr++ % this.conns.length];
          if (c.isOpen) conn = c;
        }
        if (conn === undefined) {
          // every connection dropped: the request cannot even be sent
          if (epochNow() >= this.measureStart) {
            this.counts.sent++;
            this.counts.lost++;
            this.addError('closed');
          }
          continue;
        }
        this.issue(conn, rr % this.conns.length, intended);
      }
      await sleep(TICK_MS);
    }
  }
}
