/**
 * ActorCell: one running actor. It owns the mailbox and the current behaviour,
 * runs messages one at a time (waiting on async handlers), and reports failures
 * to the system, which applies its parent's supervision. The cell is also the
 * ActorContext handed to the behaviour, so an idle actor is one object plus its
 * ref and mailbox header.
 */
import type {
  ActorContext, Behavior, Props, Replier, SpawnOptions, SupervisorSpec,
} from './behavior.js';
import { ActorFailedError } from './errors.js';
import { Mailbox, type OverflowPolicy, type ReplyTo } from './mailbox.js';
import type { ActorRef } from './ref.js';
import type { Runnable } from './scheduler.js';
import type { ActorSystem } from './system.js';

export const SUSPENDED = 1; // failed, waiting for its supervisor (or a backoff timer)
export const BUSY = 2; // an async handler or hook is running
export const STOP_REQUESTED = 4; // stop once the current message is done
export const STOPPING = 8;
export const STOPPED = 16;
export const LOADING = 32; // behaviour module still importing

export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function';
}

export class ActorCell<M = unknown> implements ActorContext<M>, Runnable {
  scheduled = false;
  flags = 0;
  behavior!: Behavior<M>;
  readonly mailbox: Mailbox;
  readonly overflow: OverflowPolicy;
  /** Children in start order (rest-for-one and shutdown order depend on it). */
  childCells: ActorCell[] | null = null;
  watchers: ActorRef[] | null = null;
  curSender: ActorRef | undefined = undefined;
  curReply: ReplyTo | undefined = undefined;
  /** Bumped on every restart so late completions of the old instance are ignored. */
  incarnation = 0;
  /** Timestamps of restarts this cell performed as a supervisor (intensity window). */
  restartLog: number[] | null = null;
  /** Consecutive restarts of this cell, for backoff. */
  restartStreak = 0;
  lastRestartAt = 0;
  selfStop = false;
  /** True while a synchronous handler runs (a self-stop then waits for it to return). */
  inHandler = false;
  timer: NodeJS.Timeout | undefined = undefined;
  stopWaiters: (() => void)[] | null = null;

  constructor(
    readonly system: ActorSystem,
    readonly self: ActorRef<M>,
    readonly parentCell: ActorCell | null,
    public makeBehavior: (() => Behavior<M>) | null,
    readonly props: Props<M>,
    readonly options: SpawnOptions,
  ) {
    const mb = options.mailbox;
    this.mailbox = new Mailbox(mb?.capacity ?? system.defaultMailboxCapacity);
    this.overflow = mb?.overflow ?? 'reject';
  }

  // ---- ActorContext ----

  get parent(): ActorRef | undefined {
    return this.parentCell?.self;
  }

  get sender(): ActorRef | undefined {
    return this.curSender;
  }

  get supervision(): SupervisorSpec {
    return this.options.supervision ?? this.system.defaultSupervision;
  }

  spawn<C>(props: Props<C>, options?: SpawnOptions): ActorRef<C> {
    return this.system.spawnLocal(props, options ?? {}, this as ActorCell);
  }

  stop(ref?: ActorRef): void {
    if (ref === undefined || ref.equals(this.self)) {
      this.selfStop = true;
      this.flags |= STOP_REQUESTED;
      // Outside a handler (e.g. a timer), act now; inside one, the run loop acts when it returns.
      if ((this.flags & BUSY) === 0 && !this.inHandler) this.system.afterMessage(this as ActorCell);
      return;
    }
    void this.system.stop(ref);
  }

  watch(ref: ActorRef): void {
    this.system.watch(ref, this.self);
  }

  unwatch(ref: ActorRef): void {
    this.system.unwatch(ref, this.self);
  }

  become(next: Behavior<M>): void {
    this.behavior = next;
  }

  deferReply(): Replier | undefined {
    const r = this.curReply;
    this.curReply = undefined;
    return r;
  }

  children(): ActorRef[] {
    return this.childCells === null ? [] : this.childCells.map((c) => c.self);
  }

  // ---- Runnable ----

  get runnable(): boolean {
    return this.flags === 0 && this.mailbox.size > 0;
  }

  runSlice(budget: number): number {
    const mb = this.mailbox;
    const metrics = this.system.metrics;
    let n = 0;
    while (n < budget && this.flags === 0 && mb.size > 0) {
      const msg = mb.peekMsg() as M;
      this.curSender = mb.peekSender();
      this.curReply = mb.peekReply();
      mb.shift();
      metrics.mailboxDepth--;
      n++;
      let result: unknown;
      this.inHandler = true;
      try {
        result = this.behavior.receive(msg, this);
      } catch (err) {
        this.inHandler = false;
        this.fail(err);
        break;
      }
      this.inHandler = false;
      if (isThenable(result)) {
        this.flags |= BUSY;
        const inc = this.incarnation;
        result.then(
          (v) => this.asyncDone(inc, v),
          (e) => this.asyncFailed(inc, e),
        );
        break;
      }
      this.finish(result);
    }
    metrics.processed += n;
    if ((this.flags & (STOP_REQUESTED | BUSY)) === STOP_REQUESTED) this.system.afterMessage(this as ActorCell);
    return n;
  }

  private finish(result: unknown): void {
    const reply = this.curReply;
    this.curReply = undefined;
    this.curSender = undefined;
    if (reply !== undefined) reply.resolve(result);
  }

  private asyncDone(inc: number, value: unknown): void {
    if (inc !== this.incarnation) return;
    this.flags &= ~BUSY;
    this.finish(value);
    this.system.afterMessage(this as ActorCell);
  }

  private asyncFailed(inc: number, err: unknown): void {
    if (inc !== this.incarnation) return;
    this.flags &= ~BUSY;
    this.fail(err);
  }

  /** The current message failed: answer its asker, suspend, and let the supervisor decide. */
  fail(err: unknown): void {
    const reply = this.curReply;
    this.curReply = undefined;
    this.curSender = undefined;
    if (reply !== undefined) reply.reject(new ActorFailedError(this.self.path, err));
    this.system.metrics.failures++;
    this.flags |= SUSPENDED;
    this.system.handleFailure(this as ActorCell, err);
  }

  /** Runs preStart (and postRestart after a restart); the actor is busy until they finish. */
  start(restartReason: unknown, restarted: boolean): void {
    let r: unknown;
    try {
      r = this.behavior.preStart?.(this);
    } catch (err) {
      this.fail(err);
      return;
    }
    const after = (): void => {
      if (restarted) {
        try {
          this.behavior.postRestart?.(this, restartReason);
        } catch (err) {
          this.fail(err);
          return;
        }
      }
      this.system.afterMessage(this as ActorCell);
    };
    if (isThenable(r)) {
      this.flags |= BUSY;
      const inc = this.incarnation;
      r.then(
        () => {
          if (inc !== this.incarnation) return;
          this.flags &= ~BUSY;
          after();
        },
        (e) => this.asyncFailed(inc, e),
      );
    } else {
      after();
    }
  }
}
