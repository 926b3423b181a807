/**
 * Pending asks and their deadlines, without a timer per ask.
 *
 * Asks are queued by timeout value: within one queue, deadlines are in
 * insertion order, so only queue heads can be due. One timer is armed for the
 * earliest head. Settled asks are skipped, and popped lazily from the heads
 * when new asks arrive, so a queue stays about as long as the asks in flight.
 */
import { AskTimeoutError } from './errors.js';
import type { ReplyTo } from './mailbox.js';
import { Ring } from './ring.js';

export class PendingAsk implements ReplyTo {
  done = false;
  private res!: (value: unknown) => void;
  private rej!: (error: unknown) => void;
  readonly promise: Promise<unknown>;

  constructor(
    readonly deadline: number,
    readonly timeoutMs: number,
    readonly target: string,
    /** Host of the target, for failing every ask to a host that died. */
    readonly targetHost: number,
    private readonly table: AskTable,
    /** Correlation id when the ask crosses threads; 0 for local asks. */
    readonly wireId: number,
  ) {
    this.promise = new Promise<unknown>((resolve, reject) => {
      this.res = resolve;
      this.rej = reject;
    });
  }

  resolve(value: unknown): void {
    if (this.done) return;
    this.done = true;
    this.table.settled(this);
    this.res(value);
  }

  reject(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.table.settled(this);
    this.rej(error);
  }
}

export class AskTable {
  private readonly queues = new Map<number, Ring<PendingAsk>>();
  /** Asks whose reply will arrive from another thread, by wire id. */
  private readonly remote = new Map<number, PendingAsk>();
  private nextWireId = 1;
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Infinity;
  pending = 0;

  create(timeoutMs: number, target: string, targetHost: number, crossesThreads: boolean): PendingAsk {
    const now = Date.now();
    const wireId = crossesThreads ? this.nextWireId++ : 0;
    const ask = new PendingAsk(now + timeoutMs, timeoutMs, target, targetHost, this, wireId);
    let queue = this.queues.get(timeoutMs);
    if (queue === undefined) {
      queue = new Ring<PendingAsk>();
      this.queues.set(timeoutMs, queue);
    }
    while (queue.length > 0 && (queue.peek() as PendingAsk).done) queue.shift();
    queue.push(ask);
    if (wireId !== 0) this.remote.set(wireId, ask);
    this.pending++;
    if (ask.deadline < this.armedAt) this.arm(ask.deadline, now);
    return ask;
  }

  /** The remote ask with this wire id, if still pending. */
  byWireId(wireId: number): PendingAsk | undefined {
    return this.remote.get(wireId);
  }

  settled(ask: PendingAsk): void {
    this.pending--;
    if (ask.wireId !== 0) this.remote.delete(ask.wireId);
  }

  /** Rejects every pending cross-thread ask to `host` (it died or went away). */
  failHost(host: number, error: () => unknown): number {
    let n = 0;
    for (const ask of [...this.remote.values()]) {
      if (ask.targetHost === host) {
        ask.reject(error());
        n++;
      }
    }
    return n;
  }

  /** Rejects everything still pending (system shutdown). */
  failAll(error: () => unknown): void {
    for (const queue of this.queues.values()) {
      while (queue.length > 0) (queue.shift() as PendingAsk).reject(error());
    }
    this.disarm();
  }

  private arm(deadline: number, now: number): void {
    this.disarm();
    this.armedAt = deadline;
    this.timer = setTimeout(() => this.sweep(), Math.max(0, deadline - now));
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
  }

  private sweep(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const [timeoutMs, queue] of this.queues) {
      while (queue.length > 0) {
        const head = queue.peek() as PendingAsk;
        if (head.done) {
          queue.shift();
        } else if (head.deadline <= now) {
          queue.shift();
          head.reject(new AskTimeoutError(head.timeoutMs, head.target));
        } else {
          next = Math.min(next, head.deadline);
          break;
        }
      }
      if (queue.length === 0) this.queues.delete(timeoutMs);
    }
    if (next !== Infinity) this.arm(next, now);
  }
}
