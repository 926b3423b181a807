/**
 * Latency histograms (HdrHistogram, microseconds). Shards encode theirs as
 * compressed base64 so a parent can merge them exactly, bucket by bucket,
 * rather than averaging percentiles (which would be wrong).
 */
import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { LatencySummary } from '../report/result.js';

export type { Histogram };

/** One hour in microseconds: anything slower is clamped (and still counted). */
const HIGHEST_US = 3_600_000_000;

export function newHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3, autoResize: false });
}

export function recordUs(h: Histogram, us: number): void {
  h.recordValue(Math.min(HIGHEST_US, Math.max(1, Math.round(us))));
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded);
}

/** Exact merge of encoded histograms (bucket counts add). */
export function mergeHistograms(encoded: readonly string[]): Histogram {
  const out = newHistogram();
  for (const e of encoded) {
    if (e.length === 0) continue;
    const h = decodeHistogram(e);
    out.add(h);
    h.destroy();
  }
  return out;
}

const ms = (us: number): number => Math.round(us) / 1000;

/** Percentiles in milliseconds (three decimals, i.e. microsecond resolution). */
export function summarize(h: Histogram): LatencySummary {
  const count = h.totalCount;
  if (count === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  return {
    count,
    min: ms(h.minNonZeroValue),
    mean: ms(h.mean),
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    // the percentile form: exact across merges (maxValue is not kept bucket-equivalent by add)
    max: ms(h.getValueAtPercentile(100)),
  };
}
