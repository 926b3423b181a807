/**
 * Registry-agnostic provider metrics, per (provider, model): plain numbers the
 * provider actors and the failover loop bump, read as snapshots by whoever
 * exports them (the gateway maps them to prom-client, as for runtime/metrics).
 * One instance per thread; the number of series is bounded.
 */
import type { ProviderErrorKind } from '../../providers/index.js';
import type { BreakerState } from './breaker.js';

/** Upper bounds (ms) of the time-to-first-token buckets; a last, unbounded one is implied. */
export const TTFT_BUCKETS_MS: readonly number[] = [50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000];

/** Series kept at most; more (provider, model) pairs fold into one overflow series. */
export const MAX_SERIES = 1_000;
export const OVERFLOW_SERIES = '_other';

/** Why an admission was refused without an upstream request. */
export type RejectReason = 'circuit_open' | 'rate_paused' | 'queue_full' | 'queue_timeout';

export interface ModelMetricsSnapshot {
  provider: string;
  model: string;
  /** Upstream attempts, retries included. */
  requests: number;
  errors: Partial<Record<ProviderErrorKind, number>>;
  retries: number;
  /** Times this entry failed and the chain moved on to the next one. */
  failovers: number;
  rejected: Partial<Record<RejectReason, number>>;
  tokensIn: number;
  tokensOut: number;
  /** Cumulative counts per bucket of TTFT_BUCKETS_MS, then the +Inf bucket. */
  ttftBuckets: number[];
  ttftCount: number;
  ttftSumMs: number;
}

export interface ProviderStateSnapshot {
  provider: string;
  breaker: BreakerState;
  /** 0 closed, 1 half-open, 2 open: the breaker as a gauge. */
  breakerGauge: number;
  inFlight: number;
  queued: number;
}

export interface ProviderMetricsSnapshot {
  models: ModelMetricsSnapshot[];
  providers: ProviderStateSnapshot[];
}

const BREAKER_GAUGE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

class ModelSeries {
  requests = 0;
  retries = 0;
  failovers = 0;
  tokensIn = 0;
  tokensOut = 0;
  ttftCount = 0;
  ttftSumMs = 0;
  readonly errors = new Map<ProviderErrorKind, number>();
  readonly rejected = new Map<RejectReason, number>();
  readonly ttft = new Array<number>(TTFT_BUCKETS_MS.length + 1).fill(0);

  constructor(readonly provider: string, readonly model: string) {}

  snapshot(): ModelMetricsSnapshot {
    const cumulative: number[] = [];
    let running = 0;
    for (const n of this.ttft) cumulative.push((running += n));
    return {
      provider: this.provider,
      model: this.model,
      requests: this.requests,
      errors: Object.fromEntries(this.errors),
      retries: this.retries,
      failovers: this.failovers,
      rejected: Object.fromEntries(this.rejected),
      tokensIn: this.tokensIn,
      tokensOut: this.tokensOut,
      ttftBuckets: cumulative,
      ttftCount: this.ttftCount,
      ttftSumMs: this.ttftSumMs,
    };
  }
}

/** Something that reports a provider actor's live state (the actor itself). */
export type ProviderStateSource = () => ProviderStateSnapshot;

export class ProviderMetrics {
  private readonly series = new Map<string, ModelSeries>();
  private readonly sources = new Map<string, ProviderStateSource>();

  request(provider: string, model: string): void {
    this.at(provider, model).requests++;
  }

  error(provider: string, model: string, kind: ProviderErrorKind): void {
    const errors = this.at(provider, model).errors;
    errors.set(kind, (errors.get(kind) ?? 0) + 1);
  }

  rejected(provider: string, model: string, reason: RejectReason): void {
    const rejected = this.at(provider, model).rejected;
    rejected.set(reason, (rejected.get(reason) ?? 0) + 1);
  }

  retry(provider: string, model: string): void {
    this.at(provider, model).retries++;
  }

  failover(provider: string, model: string): void {
    this.at(provider, model).failovers++;
  }

  tokens(provider: string, model: string, input: number, output: number): void {
    const s = this.at(provider, model);
    s.tokensIn += input;
    s.tokensOut += output;
  }

  firstToken(provider: string, model: string, ms: number): void {
    const s = this.at(provider, model);
    let bucket = TTFT_BUCKETS_MS.findIndex((bound) => ms <= bound);
    if (bucket === -1) bucket = TTFT_BUCKETS_MS.length;
    s.ttft[bucket]++;
    s.ttftCount++;
    s.ttftSumMs += ms;
  }

  /** Registers a provider actor's live state (breaker, in flight, queued); replaces an earlier one. */
  watch(provider: string, source: ProviderStateSource): () => void {
    this.sources.set(provider, source);
    return () => {
      if (this.sources.get(provider) === source) this.sources.delete(provider);
    };
  }

  snapshot(): ProviderMetricsSnapshot {
    return {
      models: [...this.series.values()].map((s) => s.snapshot()),
      providers: [...this.sources.values()].map((read) => read()),
    };
  }

  private at(provider: string, model: string): ModelSeries {
    let key = `${provider}\u0000${model}`;
    let s = this.series.get(key);
    if (s !== undefined) return s;
    if (this.series.size >= MAX_SERIES - 1) {
      // The last slot is kept for the overflow series, so it always fits.
      key = `${OVERFLOW_SERIES}\u0000${OVERFLOW_SERIES}`;
      s = this.series.get(key);
      if (s !== undefined) return s;
      provider = model = OVERFLOW_SERIES;
    }
    s = new ModelSeries(provider, model);
    this.series.set(key, s);
    return s;
  }
}

export function breakerGauge(state: BreakerState): number {
  return BREAKER_GAUGE[state];
}
