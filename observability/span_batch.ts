/**
 * BoundedBatchProcessor: sampled spans are encoded as they end into the
 * open batch; full (or old enough) batches wait in a bounded queue and are
 * posted one at a time, each under a deadline:
 *
 *     span.end() ─► open batch ─(maxExportBatchSize spans, or delayMs)─► ready batches ─► POST (one in flight)
 *                     │ queued spans ≥ maxQueueSize: drop, count queue_full        late or failed: count export_failed
 *
 * A span's end never waits on the network, so an unreachable collector
 * cannot slow or fail a request; what cannot be sent is dropped and counted.
 * The SDK's BatchSpanProcessor keeps every span object until its batch is
 * serialized, and keeps its drop count private (it reports it only through
 * an OpenTelemetry meter); Troupe exports its counters with prom-client.
 */
import { TraceFlags } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { OtlpPost } from './otlp_http.js';

export interface BatchOptions {
  maxQueueSize: number;
  maxExportBatchSize: number;
  /** How long a span may wait for a full batch. */
  delayMs: number;
}

export interface SpanCounts {
  exported: number;
  /** Dropped at the end of a span because the queue was full. */
  queueFull: number;
  /** Sent but not accepted: the collector refused, was unreachable, or too slow. */
  exportFailed: number;
}

/** Spans on their way to one request body, in one encoding (otlp_protobuf.ts, otlp_json.ts). */
export interface SpanBatch {
  readonly count: number;
  /** Whether the span may join this batch (a protobuf batch holds one resource and scope). */
  fits(span: ReadableSpan): boolean;
  add(span: ReadableSpan): void;
  body(): Uint8Array;
  /** Called once the body was sent and the collector answered 2xx: the batch may reuse its memory (otlp_protobuf.ts). */
  recycle?(): void;
}

export class BoundedBatchProcessor implements SpanProcessor {
  readonly counts: SpanCounts = { exported: 0, queueFull: 0, exportFailed: 0 };
  private open: SpanBatch | null = null;
  private readonly ready: SpanBatch[] = [];
  /** Spans in `open` and `ready` (not those in flight). */
  private queued = 0;
  private timer: NodeJS.Timeout | undefined = undefined;
  private exporting: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly newBatch: (first: ReadableSpan) => SpanBatch,
    private readonly post: OtlpPost,
    private readonly options: BatchOptions,
  ) {}

  onStart(_span: Span): void {}

  onEnd(span: ReadableSpan): void {
    if (this.closed || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.queued >= this.options.maxQueueSize) {
      this.counts.queueFull++;
      return;
    }
    if (this.open !== null && !this.open.fits(span)) this.seal();
    const batch = (this.open ??= this.newBatch(span));
    batch.add(span);
    this.queued++;
    if (batch.count >= this.options.maxExportBatchSize) {
      this.seal();
      this.kick();
    } else {
      this.arm();
    }
  }

  async forceFlush(): Promise<void> {
    this.seal();
    // Each round exports one batch (or waits for the one in flight), so this ends.
    while (this.exporting !== null || this.ready.length > 0) {
      if (this.exporting === null) this.kick();
      await this.exporting;
    }
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    this.closed = true;
    clearTimeout(this.timer);
    this.post.close();
  }

  private seal(): void {
    if (this.open === null) return;
    this.ready.push(this.open);
    this.open = null;
  }

  private arm(): void {
    if (this.timer !== undefined || this.exporting !== null) return;
    this.timer = setTimeout(this.onTimer, this.options.delayMs);
    this.timer.unref();
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (this.exporting !== null) return;
    this.seal();
    this.kick();
  };

  private kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.exporting !== null) return;
    const batch = this.ready.shift();
    if (batch === undefined) return;
    this.queued -= batch.count;
    this.exporting = this.send(batch).then(() => {
      this.exporting = null;
      if (this.ready.length > 0) this.kick();
      else if (this.open !== null) this.arm();
    });
  }

  private async send(batch: SpanBatch): Promise<void> {
    let ok: boolean;
    try {
      ok = await this.post(batch.body());
    } catch {
      ok = false; // a body that could not be encoded counts as a failed export
    }
    if (ok) {
      this.counts.exported += batch.count;
      batch.recycle?.();
    } else {
      this.counts.exportFailed += batch.count;
    }
  }
}
