/**
 * Cooperative, fair scheduling of actors on one thread.
 *
 * A ready actor sits once in the run queue. Each time it reaches the front it
 * handles at most `throughput` messages, then goes to the back if it still has
 * mail, so a flooding actor cannot starve its neighbours. Draining runs as a
 * microtask (low latency), but after `turnBudget` messages in one event-loop
 * turn it continues from `setImmediate`, so timers and I/O keep running.
 */
import { Ring } from './ring.js';

export interface Runnable {
  scheduled: boolean;
  /** Handles up to `budget` messages; returns how many it handled. */
  runSlice(budget: number): number;
  /** Whether it has mail it could handle now. */
  readonly runnable: boolean;
}

export class Scheduler {
  private readonly queue = new Ring<Runnable>(1024);
  private drainPending = false;
  private turnCount = 0;
  private turnResetPending = false;

  constructor(
    readonly throughput: number,
    readonly turnBudget: number,
  ) {}

  schedule(r: Runnable): void {
    if (r.scheduled) return;
    r.scheduled = true;
    this.queue.push(r);
    if (!this.drainPending) {
      this.drainPending = true;
      if (this.turnCount >= this.turnBudget) setImmediate(this.drain);
      else queueMicrotask(this.drain);
    }
  }

  /** Messages waiting in the run queue's actors are not counted here; this is actors ready to run. */
  get ready(): number {
    return this.queue.length;
  }

  private readonly resetTurn = (): void => {
    this.turnCount = 0;
    this.turnResetPending = false;
  };

  private readonly drain = (): void => {
    if (!this.turnResetPending) {
      this.turnResetPending = true;
      setImmediate(this.resetTurn);
    }
    const queue = this.queue;
    while (queue.length > 0) {
      if (this.turnCount >= this.turnBudget) {
        setImmediate(this.drain);
        return;
      }
      const r = queue.shift() as Runnable;
      r.scheduled = false;
      this.turnCount += r.runSlice(this.throughput) + 1;
      if (r.runnable) {
        r.scheduled = true;
        queue.push(r);
      }
    }
    this.drainPending = false;
  };
}
