/** Percentiles and timing helpers shared by the runtime benchmarks. */

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Summarises latency samples in nanoseconds as microseconds. */
export function latencyUs(samplesNs: Float64Array): { p50: number; p90: number; p99: number; mean: number; samples: number } {
  const sorted = Float64Array.from(samplesNs).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const us = (ns: number): number => Math.round(ns / 10) / 100;
  return {
    p50: us(percentile(sorted, 50)),
    p90: us(percentile(sorted, 90)),
    p99: us(percentile(sorted, 99)),
    mean: us(sum / Math.max(1, sorted.length)),
    samples: sorted.length,
  };
}

export function now(): number {
  return performance.now();
}

export function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
