/**
 * Per-interval counts and latency histograms over the measured window. Each
 * shard keeps its own; the parent merges intervals by index, so percentiles
 * over time are exact across processes too.
 */
import type { TimelinePoint } from '../report/result.js';
import { encodeHistogram, mergeHistograms, newHistogram, recordUs, summarize, type Histogram } from './histogram.js';

/** The wire form of one interval from one shard. */
export interface IntervalData {
  i: number;
  completed: number;
  errors: number;
  open: number;
  hist: string;
}

/** At most this many intervals are kept: a long soak gets wider intervals, never more memory. */
export const MAX_INTERVALS = 2_000;

export function intervalMsFor(durationMs: number): number {
  return Math.max(1_000, Math.ceil(durationMs / MAX_INTERVALS / 1_000) * 1_000);
}

interface Slot {
  completed: number;
  errors: number;
  open: number;
  hist: Histogram;
}

export class TimelineRecorder {
  private readonly slots = new Map<number, Slot>();

  constructor(
    private readonly startMs: number,
    private readonly intervalMs: number,
  ) {}

  private slot(atMs: number): Slot | undefined {
    const i = Math.floor((atMs - this.startMs) / this.intervalMs);
    if (i < 0 || i >= MAX_INTERVALS) return undefined;
    let s = this.slots.get(i);
    if (s === undefined) {
      s = { completed: 0, errors: 0, open: 0, hist: newHistogram() };
      this.slots.set(i, s);
    }
    return s;
  }

  completed(atMs: number, latencyUs: number): void {
    const s = this.slot(atMs);
    if (s === undefined) return;
    s.completed++;
    recordUs(s.hist, latencyUs);
  }

  error(atMs: number): void {
    const s = this.slot(atMs);
    if (s !== undefined) s.errors++;
  }

  /** Records the open-connection count seen in the interval containing `atMs`. */
  open(atMs: number, open: number): void {
    const s = this.slot(atMs);
    if (s !== undefined) s.open = Math.max(s.open, open);
  }

  export(): IntervalData[] {
    const out: IntervalData[] = [];
    for (const [i, s] of [...this.slots].sort((a, b) => a[0] - b[0])) {
      out.push({ i, completed: s.completed, errors: s.errors, open: s.open, hist: encodeHistogram(s.hist) });
      s.hist.destroy();
    }
    this.slots.clear();
    return out;
  }
}

/** Merges shards' intervals into points; intervals past the measured window are dropped. */
export function mergeTimelines(shards: readonly IntervalData[][], intervalMs: number, measuredMs: number): TimelinePoint[] {
  const byIndex = new Map<number, IntervalData[]>();
  for (const shard of shards) {
    for (const d of shard) {
      const list = byIndex.get(d.i) ?? [];
      list.push(d);
      byIndex.set(d.i, list);
    }
  }
  const n = Math.ceil(measuredMs / intervalMs);
  const points: TimelinePoint[] = [];
  for (let i = 0; i < n; i++) {
    const list = byIndex.get(i) ?? [];
    const h = mergeHistograms(list.map((d) => d.hist));
    const lat = summarize(h);
    h.destroy();
    const spanSec = Math.min(intervalMs, measuredMs - i * intervalMs) / 1000;
    const completed = list.reduce((a, d) => a + d.completed, 0);
    points.push({
      t: Math.round(((i * intervalMs) / 1000 + spanSec) * 1000) / 1000,
      rps: Math.round(completed / Math.max(spanSec, 0.001)),
      errors: list.reduce((a, d) => a + d.errors, 0),
      open: list.reduce((a, d) => a + d.open, 0),
      p50: lat.p50,
      p99: lat.p99,
    });
  }
  return points;
}
