/**
 * BoundedBatchProcessor: ends of sampled spans go into a bounded queue, which
 * is exported in batches, one export at a time, each under a deadline:
 *
 *     span.end() ─► queue (≤ maxQueueSize) ──every delayMs, or once a batch is full──► exporter
 *                     │ full: drop, count queue_full                 late or failed: count export_failed
 *
 * A span's end never waits on the network, so an unreachable collector
 * cannot slow or fail a request; what cannot be sent is dropped and counted.
 * The SDK's BatchSpanProcessor does the same batching but keeps its drop
 * count private (it reports it only through an OpenTelemetry meter), and
 * Troupe exports its counters with prom-client.
 */
import { TraceFlags, context } from '@opentelemetry/api';
import { ExportResultCode, suppressTracing } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface BatchOptions {
  maxQueueSize: number;
  maxExportBatchSize: number;
  /** How long a span may wait for a full batch. */
  delayMs: number;
  /** An export that has not answered by then counts as failed (the next batch goes on). */
  exportTimeoutMs: number;
}

export interface SpanCounts {
  exported: number;
  /** Dropped at the end of a span because the queue was full. */
  queueFull: number;
  /** Sent but not accepted: the collector refused, was unreachable, or too slow. */
  exportFailed: number;
}

export class BoundedBatchProcessor implements SpanProcessor {
  readonly counts: SpanCounts = { exported: 0, queueFull: 0, exportFailed: 0 };
  private queue: ReadableSpan[] = [];
  private timer: NodeJS.Timeout | undefined = undefined;
  private exporting: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly exporter: SpanExporter,
    private readonly options: BatchOptions,
  ) {}

  onStart(_span: Span): void {}

  onEnd(span: ReadableSpan): void {
    if (this.closed || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.queue.length >= this.options.maxQueueSize) {
      this.counts.queueFull++;
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= this.options.maxExportBatchSize) this.kick();
    else this.arm();
  }

  async forceFlush(): Promise<void> {
    // Each round exports one batch (or waits for the one in flight), so this ends.
    while (this.exporting !== null || this.queue.length > 0) {
      if (this.exporting === null) this.kick();
      await this.exporting;
    }
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    this.closed = true;
    clearTimeout(this.timer);
    await this.exporter.shutdown().catch(() => undefined);
  }

  private arm(): void {
    if (this.timer !== undefined || this.exporting !== null) return;
    this.timer = setTimeout(this.kick, this.options.delayMs);
    this.timer.unref();
  }

  private readonly kick = (): void => {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.exporting !== null || this.queue.length === 0) return;
    const batch = this.queue.length <= this.options.maxExportBatchSize ? this.queue : this.queue.slice(0, this.options.maxExportBatchSize);
    this.queue = batch === this.queue ? [] : this.queue.slice(batch.length);
    this.exporting = this.exportBatch(batch).then(() => {
      this.exporting = null;
      if (this.queue.length >= this.options.maxExportBatchSize) this.kick();
      else if (this.queue.length > 0) this.arm();
    });
  };

  private exportBatch(batch: ReadableSpan[]): Promise<void> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        if (ok) this.counts.exported += batch.length;
        else this.counts.exportFailed += batch.length;
        resolve();
      };
      const deadline = setTimeout(() => settle(false), this.options.exportTimeoutMs);
      deadline.unref();
      // The exporter's own HTTP calls must not make spans of their own.
      context.with(suppressTracing(context.active()), () => {
        try {
          this.exporter.export(batch, (result) => settle(result.code === ExportResultCode.SUCCESS));
        } catch {
          settle(false);
        }
      });
    });
  }
}
