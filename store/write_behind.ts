import { StoreError } from './errors.js';

/**
 * Takes writes off the hot path: callers enqueue and return at once; one writer
 * drains the queue in batches, in order.
 *
 *   enqueue ─► [ bounded FIFO (maxItems) ] ─► batch of ≤ batchSize ─► write(batch)
 *                 │ full?                        after flushIntervalMs, or at once
 *                 └► overflow policy             when a full batch is waiting
 *
 * Overflow: 'reject' refuses the new item (enqueue returns false, counted as
 * `rejected`); 'drop-oldest' evicts the oldest queued item to make room (counted as
 * `dropped`). Nothing is dropped without being counted.
 *
 * A failing write is retried `maxRetries` times with linear backoff; after that the
 * batch is counted as `failed` and handed to onError. `flush()` (call it on SIGTERM)
 * resolves once everything enqueued before it has been written, and rejects with
 * UNAVAILABLE if some of it could not be. A hard crash loses what is still in
 * memory: `pending` plus the batch being written, at most maxItems + batchSize items.
 */
export type OverflowPolicy = 'reject' | 'drop-oldest';

export interface WriteBehindOptions<T> {
  write(batch: T[]): Promise<void>;
  maxItems?: number;
  batchSize?: number;
  flushIntervalMs?: number;
  overflow?: OverflowPolicy;
  maxRetries?: number;
  retryDelayMs?: number;
  onError?(err: unknown, batch: readonly T[]): void;
}

export interface WriteBehindStats {
  enqueued: number;
  written: number;
  rejected: number;
  dropped: number;
  failed: number;
  batches: number;
  /** Queued and not yet handed to write(). */
  pending: number;
  /** Handed to write() and not yet confirmed. */
  inFlight: number;
}

export class WriteBehindQueue<T> {
  private items: T[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private closed = false;
  private readonly opts: Required<Omit<WriteBehindOptions<T>, 'onError'>> & Pick<WriteBehindOptions<T>, 'onError'>;
  private readonly counters = { enqueued: 0, written: 0, rejected: 0, dropped: 0, failed: 0, batches: 0, inFlight: 0 };

  constructor(options: WriteBehindOptions<T>) {
    this.opts = {
      maxItems: 10_000,
      batchSize: 100,
      flushIntervalMs: 50,
      overflow: 'reject',
      maxRetries: 3,
      retryDelayMs: 100,
      ...options,
    };
    const { maxItems, batchSize, flushIntervalMs, maxRetries, retryDelayMs } = this.opts;
    if (!Number.isInteger(maxItems) || maxItems < 1) throw new StoreError('INVALID_REQUEST', 'maxItems must be >= 1');
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new StoreError('INVALID_REQUEST', 'batchSize must be >= 1');
    if (!(flushIntervalMs >= 0) || !(retryDelayMs >= 0) || !Number.isInteger(maxRetries) || maxRetries < 0) {
      throw new StoreError('INVALID_REQUEST', 'flushIntervalMs, retryDelayMs and maxRetries must be >= 0');
    }
  }

  get size(): number {
    return this.items.length - this.head;
  }

  stats(): WriteBehindStats {
    return { ...this.counters, pending: this.size };
  }

  /** False when the item was refused (queue full under 'reject', or closed). */
  enqueue(item: T): boolean {
    if (this.closed) {
      this.counters.rejected++;
      return false;
    }
    if (this.size >= this.opts.maxItems) {
      if (this.opts.overflow === 'reject') {
        this.counters.rejected++;
        return false;
      }
      this.head++;
      this.counters.dropped++;
    }
    this.items.push(item);
    this.counters.enqueued++;
    if (this.size >= this.opts.batchSize) this.kick();
    else this.arm();
    return true;
  }

  /** Writes everything queued so far (and anything added meanwhile). */
  async flush(): Promise<void> {
    this.disarm();
    const failedBefore = this.counters.failed;
    while (this.size > 0 || this.draining !== null) {
      this.kick();
      await this.draining;
    }
    const lost = this.counters.failed - failedBefore;
    if (lost > 0) throw new StoreError('UNAVAILABLE', `${lost} queued writes failed after retries`);
  }

  /** Refuses new items, then flushes. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private arm(): void {
    if (this.timer !== null || this.draining !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.kick();
    }, this.opts.flushIntervalMs);
    // Shutdown is flush()'s job; a pending timer must not keep the process alive.
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private kick(): void {
    this.disarm();
    if (this.draining !== null || this.size === 0) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.size > 0 && !this.closed) this.arm();
    });
  }

  private take(n: number): T[] {
    const batch = this.items.slice(this.head, this.head + n);
    this.head += batch.length;
    // Compact now and then so the backing array does not grow forever.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  private async drain(): Promise<void> {
    while (this.size > 0) {
      const batch = this.take(this.opts.batchSize);
      this.counters.inFlight = batch.length;
      await this.writeWithRetry(batch);
      this.counters.inFlight = 0;
    }
  }

  private async writeWithRetry(batch: T[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.opts.write(batch);
        this.counters.written += batch.length;
        this.counters.batches++;
        return;
      } catch (err) {
        if (attempt >= this.opts.maxRetries) {
          this.counters.failed += batch.length;
          try {
            this.opts.onError?.(err, batch);
          } catch {
            // A throwing observer must not stall the writer.
          }
          return;
        }
        await new Promise((r) => setTimeout(r, this.opts.retryDelayMs * (attempt + 1)));
      }
    }
  }
}
