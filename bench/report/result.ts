/**
 * The shape every benchmark writes with `--json` (and the HTML report reads).
 * `validateResult` checks a parsed document against it, so consumers (CI,
 * the smoke run, tests) can reject a malformed file with a precise message.
 */

export const RESULT_SCHEMA = 'troupe.bench/1';

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** One interval of the measured window. */
export interface TimelinePoint {
  /** Seconds from the start of the measured window to the end of this interval. */
  t: number;
  /** Completed requests per second in this interval. */
  rps: number;
  errors: number;
  open: number;
  p50: number;
  p99: number;
}

/** One scrape of the target's /metrics. Absent fields: the target does not export them. */
export interface ServerSample {
  /** Seconds since the run started (ramp included; negative = before). */
  t: number;
  phase: Phase;
  rssBytes?: number;
  cpuSeconds?: number;
  eventLoopLagMs?: number;
  mailboxDepth?: number;
  workerReplacements?: number;
}

export type Phase = 'setup' | 'ramp' | 'warmup' | 'measure' | 'drain' | 'done';
export const PHASES: readonly Phase[] = ['setup', 'ramp', 'warmup', 'measure', 'drain', 'done'];

export interface RequestCounts {
  /** Requests sent in the measured window (warm-up excluded). */
  sent: number;
  /** Answered and verified. */
  completed: number;
  /** Answered with a non-retryable error (or a response that failed verification). */
  failed: number;
  /** Answered with a retryable error. */
  retryable: number;
  /** Never answered (connection dropped, or still pending after the drain timeout). */
  lost: number;
  /** Completed per second of measured time. */
  perSec: number;
  /** Requests sent during warm-up (not in any other figure). */
  warmup: number;
}

export interface ServerSummary {
  samples: ServerSample[];
  scrapeErrors: number;
  rssStartBytes?: number;
  rssPeakBytes?: number;
  rssEndBytes?: number;
  /** Mean measured-window RSS minus the pre-run RSS, over connections opened (idle scenario). */
  rssPerConnBytes?: number;
  /** Server CPU over the measured window, percent of one core. */
  cpuPercent?: number;
  eventLoopLagMaxMs?: number;
  mailboxDepthMax?: number;
  workerReplacements?: number;
}

export interface SoakVerdict {
  leak: boolean;
  /** Least-squares RSS slope over the measured window. */
  slopeBytesPerMin: number;
  /** Fitted growth across the measured window. */
  growthBytes: number;
  thresholdBytes: number;
}

export interface FaultReport {
  kind: 'worker-kill';
  killedHost: number;
  /** From the old worker's exit to the new one being ready; null if it did not come up in time. */
  replacementMs: number | null;
  /** Seconds into the measured window when the kill was sent. */
  atSec: number;
  completed: number;
  retryable: number;
  failed: number;
  lost: number;
}

export interface BenchResult {
  schema: typeof RESULT_SCHEMA;
  kind: 'ws' | 'http';
  /** e.g. "ws ping closed", "http stream". */
  name: string;
  target: string;
  startedAt: string;
  settings: Record<string, string | number | boolean>;
  /** Length of the measured window. */
  measuredMs: number;
  requests: RequestCounts;
  latency: LatencySummary;
  /** Time to first token (chat and streaming HTTP). */
  ttft?: LatencySummary;
  connections: { target: number; opened: number; failed: number; connectLatency?: LatencySummary };
  /** Errors by catalogue code (or a client-side reason such as `verify`, `closed`). */
  errors: Record<string, number>;
  timeline: TimelinePoint[];
  server: ServerSummary;
  client: { processes: number; cpuPercent: number };
  soak?: SoakVerdict;
  fault?: FaultReport;
}

/** A compare run: several results and their ratios. */
export interface CompareResult {
  schema: typeof RESULT_SCHEMA;
  kind: 'compare';
  startedAt: string;
  results: BenchResult[];
  ratios: CompareRatio[];
}

export interface CompareRatio {
  test: string;
  subject: string;
  reference: string;
  /** subject rps / reference rps. */
  throughput: number;
  /** subject p50 / reference p50. */
  p50: number;
  p99: number;
  /** subject p50 minus reference p50 (ms): the latency the subject adds. */
  addedP50Ms: number;
  addedP99Ms: number;
}

// ------------------------------------------------------------ validation

type Check = (v: unknown, path: string, out: string[]) => void;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const num: Check = (v, p, out) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) out.push(`${p} must be a finite number`);
};
const count: Check = (v, p, out) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) out.push(`${p} must be a whole number >= 0`);
};
const str: Check = (v, p, out) => {
  if (typeof v !== 'string' || v.length === 0) out.push(`${p} must be a non-empty string`);
};
const optional = (c: Check): Check => (v, p, out) => {
  if (v !== undefined) c(v, p, out);
};
const obj = (fields: Record<string, Check>): Check => (v, p, out) => {
  if (!isObj(v)) {
    out.push(`${p} must be an object`);
    return;
  }
  for (const [k, c] of Object.entries(fields)) c(v[k], `${p}.${k}`, out);
};
const arr = (item: Check, max = 1_000_000): Check => (v, p, out) => {
  if (!Array.isArray(v)) {
    out.push(`${p} must be an array`);
    return;
  }
  if (v.length > max) out.push(`${p} has more than ${max} items`);
  v.forEach((x, i) => item(x, `${p}[${i}]`, out));
};
const oneOf = (values: readonly string[]): Check => (v, p, out) => {
  if (typeof v !== 'string' || !values.includes(v)) out.push(`${p} must be one of ${values.join(', ')}`);
};
const record = (c: Check): Check => (v, p, out) => {
  if (!isObj(v)) {
    out.push(`${p} must be an object`);
    return;
  }
  for (const [k, x] of Object.entries(v)) c(x, `${p}.${k}`, out);
};

const latency = obj({ count, min: num, mean: num, p50: num, p90: num, p99: num, p999: num, max: num });

const benchResult: Check = obj({
  schema: oneOf([RESULT_SCHEMA]),
  kind: oneOf(['ws', 'http']),
  name: str,
  target: str,
  startedAt: str,
  settings: record((v, p, out) => {
    if (!['string', 'number', 'boolean'].includes(typeof v)) out.push(`${p} must be a string, number or boolean`);
  }),
  measuredMs: num,
  requests: obj({ sent: count, completed: count, failed: count, retryable: count, lost: count, perSec: num, warmup: count }),
  latency,
  ttft: optional(latency),
  connections: obj({ target: count, opened: count, failed: count, connectLatency: optional(latency) }),
  errors: record(count),
  timeline: arr(obj({ t: num, rps: num, errors: count, open: count, p50: num, p99: num }), 100_000),
  server: obj({
    samples: arr(obj({
      t: num, phase: oneOf(PHASES), rssBytes: optional(num), cpuSeconds: optional(num), eventLoopLagMs: optional(num),
      mailboxDepth: optional(num), workerReplacements: optional(num),
    }), 100_000),
    scrapeErrors: count,
    rssStartBytes: optional(num), rssPeakBytes: optional(num), rssEndBytes: optional(num), rssPerConnBytes: optional(num),
    cpuPercent: optional(num), eventLoopLagMaxMs: optional(num), mailboxDepthMax: optional(num), workerReplacements: optional(num),
  }),
  client: obj({ processes: count, cpuPercent: num }),
  soak: optional(obj({ leak: (v, p, out) => { if (typeof v !== 'boolean') out.push(`${p} must be a boolean`); }, slopeBytesPerMin: num, growthBytes: num, thresholdBytes: num })),
  fault: optional(obj({
    kind: oneOf(['worker-kill']), killedHost: count, atSec: num, completed: count, retryable: count, failed: count, lost: count,
    replacementMs: (v, p, out) => { if (v !== null) num(v, p, out); },
  })),
});

/** Problems with a parsed `--json` document; empty when it is valid. Also checks the counts add up. */
export function validateResult(doc: unknown): string[] {
  const out: string[] = [];
  if (isObj(doc) && doc.kind === 'compare') {
    obj({
      schema: oneOf([RESULT_SCHEMA]), startedAt: str, results: arr(benchResult, 100),
      ratios: arr(obj({ test: str, subject: str, reference: str, throughput: num, p50: num, p99: num, addedP50Ms: num, addedP99Ms: num }), 100),
    })(doc, '$', out);
    return out;
  }
  benchResult(doc, '$', out);
  if (out.length === 0 && isObj(doc) && isObj(doc.requests)) {
    const r = doc.requests as unknown as RequestCounts;
    if (r.completed + r.failed + r.retryable + r.lost !== r.sent) {
      out.push(`$.requests: completed + failed + retryable + lost (${r.completed + r.failed + r.retryable + r.lost}) must equal sent (${r.sent})`);
    }
  }
  return out;
}
