/**
 * ActorCell: one running actor. It owns the mailbox and the current behaviour,
 * runs messages one at a time (waiting on async handlers), and reports failures
 * to the system, which applies its parent's supervision. The cell is also the
 * ActorContext handed to the behaviour, so an idle actor is one object plus its
 * ref and mailbox header.
 */
import type {
  ActorContext, Behavior, BehaviorFactory, Props, Replier, SpawnOptions, SupervisorSpec,
} from './behavior.js';
import { Carried } from './envelope.js';
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
export const IN_HANDLER = 64; // a synchronous handler is running (a self-stop waits for it)
export const SELF_STOP = 128; // the pending stop was requested by the actor itself

/** Any of these keeps the actor from taking its next message. */
export const BLOCKED = SUSPENDED | BUSY | STOP_REQUESTED | STOPPING | STOPPED | LOADING;

/** Rarely needed per-actor state, allocated on first use so idle actors stay small. */
export class CellExtra {
  /** Timestamps of restarts this cell performed as a supervisor (intensity window). */
  restartLog: number[] = [];
  /** Consecutive restarts of this cell, for backoff. */
  restartStreak = 0;
  lastRestartAt = 0;
  timer: NodeJS.Timeout | undefined = undefined;
  stopWaiters: (() => void)[] = [];
}

export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function';
}

export class ActorCell<M = unknown> implements ActorContext<M>, Runnable {
  scheduled = false;
  flags = 0;
  behavior!: Behavior<M>;
  readonly mailbox: Mailbox;
  readonly overflow: OverflowPolicy;
  /** Children in start order (insertion-ordered; rest-for-one and shutdown order depend on it). */
  childCells: Set<ActorCell> | null = null;
  watchers: ActorRef[] | null = null;
  curSender: ActorRef | undefined = undefined;
  curReply: ReplyTo | undefined = undefined;
  /** Bumped on every restart so late completions of the old instance are ignored. */
  incarnation = 0;
  extra: CellExtra | null = null;
  /** Builds a fresh behaviour (start and every restart): `makeBehavior(behaviorArgs)`. */
  makeBehavior: BehaviorFactory<M, unknown> | null = null;
  behaviorArgs: unknown = undefined;

  constructor(
    readonly system: ActorSystem,
    readonly self: ActorRef<M>,
    readonly parentCell: ActorCell | null,
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
      this.flags |= STOP_REQUESTED | SELF_STOP;
      // Outside a handler (e.g. a timer), act now; inside one, the run loop acts when it returns.
      if ((this.flags & (BUSY | IN_HANDLER)) === 0) this.system.afterMessage(this as ActorCell);
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
    return this.childCells === null ? [] : [...this.childCells].map((c) => c.self);
  }

  // ---- Runnable ----

  get runnable(): boolean {
    return (this.flags & BLOCKED) === 0 && this.mailbox.size > 0;
  }

  get ext(): CellExtra {
    return (this.extra ??= new CellExtra());
  }

  runSlice(budget: number): number {
    const mb = this.mailbox;
    const metrics = this.system.metrics;
    const envelope = this.system.envelope;
    let n = 0;
    while (n < budget && (this.flags & BLOCKED) === 0 && mb.size > 0) {
      const raw = mb.peekMsg();
      this.curSender = mb.peekSender();
      this.curReply = mb.peekReply();
      mb.shift();
      metrics.mailboxDepth--;
      n++;
      let result: unknown;
      this.flags |= IN_HANDLER;
      try {
        if (envelope === null) {
          result = this.behavior.receive((raw instanceof Carried ? raw.msg : raw) as M, this);
        } else if (raw instanceof Carried) {
          result = envelope.run(raw.context, this.behavior.receive, this.behavior, raw.msg as M, this as ActorContext<M>);
        } else {
          // Nothing carried: run outside whatever context scheduled this slice.
          result = envelope.run(undefined, this.behavior.receive, this.behavior, raw as M, this as ActorContext<M>);
        }
      } catch (err) {
        this.flags &= ~IN_HANDLER;
        this.fail(err);
        break;
      }
      this.flags &= ~IN_HANDLER;
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
