/** Settings of a WebSocket load run, and of the slice one shard (process) drives. */

export type Scenario = 'idle' | 'ping' | 'chat';
export const SCENARIOS: readonly Scenario[] = ['idle', 'ping', 'chat'];

export interface WsBenchOptions {
  url: string;
  conns: number;
  durationMs: number;
  warmupMs: number;
  scenario: Scenario;
  /** Open loop at this many requests per second in total; 0 = closed loop (one request in flight per connection). */
  rate: number;
  /** New connections per second; 0 = as fast as the server accepts them. */
  rampPerSec: number;
  /** Extra bytes per request: chat message length, or padding on ping. */
  payload: number;
  token?: string;
  agent?: string;
  /** The target echoes frames (a reference server): the request coming back is the answer. */
  echo: boolean;
  /** Load processes; undefined = one, or one per 15,000 connections above that. */
  procs?: number;
  /** How long to wait for answers after the window closes before counting the rest as lost. */
  drainMs: number;
  connectTimeoutMs: number;
  /** Scrape this /metrics URL while running; undefined = derive from url, '' = do not scrape. */
  metricsUrl?: string;
  soak: boolean;
  leakThresholdBytes: number;
  fault?: 'worker-kill';
  /** Seconds into the measured window at which the fault is injected (default: half-way). */
  faultAtSec?: number;
}

/** What one shard drives: its share of connections and rate. */
export type ShardOptions = Pick<WsBenchOptions,
  'url' | 'conns' | 'durationMs' | 'warmupMs' | 'scenario' | 'rate' | 'rampPerSec' | 'payload' | 'token' | 'agent' | 'echo' | 'drainMs' | 'connectTimeoutMs'
> & {
  intervalMs: number;
  /** Distinct per shard so session keys never collide across processes. */
  sessionPrefix: string;
};

/** Connections handled by one process before the run is spread over several. */
export const CONNS_PER_PROCESS = 15_000;

export function shardCount(o: Pick<WsBenchOptions, 'conns' | 'procs'>): number {
  if (o.procs !== undefined) return Math.max(1, Math.min(o.procs, o.conns));
  return Math.max(1, Math.ceil(o.conns / CONNS_PER_PROCESS));
}

/** Splits n into k near-equal whole parts (the first ones one larger). */
export function split(n: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}
