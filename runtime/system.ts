/**
 * ActorSystem: the actors of one thread. It spawns and stops them, routes
 * messages (locally, or through a RemoteHub to other threads), applies
 * supervision, counts dead letters and drops, and shuts down in order.
 *
 * The main thread's system also owns a WorkerPool (see pool.ts) when started
 * with workers; each worker thread runs its own system (see worker_host.ts).
 */
import { AskTable, type PendingAsk } from './asks.js';
import type {
  Behavior, BehaviorFactory, ModuleProps, Props, Rejected, SpawnOptions, SupervisorSpec, Terminated, TerminationReason,
} from './behavior.js';
import { ActorCell, BLOCKED, BUSY, LOADING, SELF_STOP, STOPPED, STOPPING, STOP_REQUESTED, SUSPENDED, isThenable } from './cell.js';
import { Carried, bareMessage, loadEnvelopeContext, type EnvelopeContext, type EnvelopeContextSpec } from './envelope.js';
import { ActorNotFoundError, MailboxFullError, RuntimeError, UnavailableError } from './errors.js';
import type { ReplyTo } from './mailbox.js';
import { HostMetrics } from './metrics.js';
import { ActorRef, type AskOptions, type RefRouter } from './ref.js';
import { Ring } from './ring.js';
import { Scheduler } from './scheduler.js';

/** Most hosts a system can address; actor ids encode the allocating host below this. */
export const MAX_HOSTS = 1024;

export interface SystemOptions {
  /** This thread's host number: 0 for the main thread, 1..N for workers. */
  host?: number;
  askTimeoutMs?: number;
  /** Messages an actor may handle per turn before yielding to others (fairness). */
  throughput?: number;
  /** Messages per event-loop turn before the scheduler yields to I/O and timers. */
  turnBudget?: number;
  defaultMailboxCapacity?: number;
  /** Supervision for actors that set none for their children. */
  defaultSupervision?: SupervisorSpec;
  /** How the system supervises top-level actors. */
  guardianSupervision?: SupervisorSpec;
  /** Recent dead letters kept for inspection. */
  deadLetterHistory?: number;
  /**
   * A context every message carries across actors and threads (envelope.ts),
   * loaded on the main thread and on each worker; absent: messages carry nothing.
   */
  envelope?: EnvelopeContextSpec;
}

export interface DeadLetter {
  target: string;
  message: unknown;
  sender: string | undefined;
  at: number;
  /** Set when another thread's full mailbox refused a tell of this thread's (`mailbox_full`). */
  reason?: string;
}

export interface SystemEvent {
  type: 'escalation' | 'failure';
  actor: string;
  error: unknown;
}

/** What the system needs from the cross-thread layer. */
export interface RemoteHub {
  tell(target: ActorRef, msg: unknown, sender: ActorRef | undefined): void;
  ask(target: ActorRef, msg: unknown, ask: PendingAsk): void;
  spawn(target: ActorRef, props: ModuleProps, options: SpawnOptions): void;
  stop(target: ActorRef): void;
  watch(target: ActorRef, watcher: ActorRef): void;
  unwatch(target: ActorRef, watcher: ActorRef): void;
  /** Picks a worker host for a placement, or undefined for this thread. */
  place(placement: SpawnOptions['placement']): number | undefined;
  /** Called when an actor that another host spawned here stops for good. */
  actorStopped?(ref: ActorRef): void;
}

const DEFAULT_SUPERVISION: SupervisorSpec = { strategy: 'one-for-one', maxRestarts: 10, withinMs: 10_000 };

export class ActorSystem implements RefRouter {
  readonly host: number;
  readonly metrics: HostMetrics;
  readonly scheduler: Scheduler;
  readonly asks = new AskTable();
  readonly askTimeoutMs: number;
  readonly defaultMailboxCapacity: number;
  readonly defaultSupervision: SupervisorSpec;
  readonly guardianSupervision: SupervisorSpec;
  remote: RemoteHub | null = null;
  /** Captures a context with each message sent and restores it around its handler (envelope.ts). */
  envelope: EnvelopeContext | null = null;

  private readonly cells = new Map<number, ActorCell>();
  private readonly names = new Map<string, ActorRef>();
  private readonly nameOf = new Map<number, string>();
  /** Top-level actors in start order (a Set: insertion-ordered, O(1) removal). */
  private readonly topLevel = new Set<ActorCell>();
  private guardianLog: number[] = [];
  private nextId = 1;
  private readonly modules = new Map<string, Record<string, unknown>>();
  private readonly recentDeadLetters: Ring<DeadLetter>;
  private readonly deadLetterHistory: number;
  private readonly deadLetterListeners = new Set<(d: DeadLetter) => void>();
  private readonly eventListeners = new Set<(e: SystemEvent) => void>();
  private shuttingDown = false;
  private pool: import('./pool.js').WorkerPool | null = null;

  /**
   * Starts a system on the main thread with a pool of worker hosts (default:
   * one per core). Resolves once every worker is ready.
   */
  static async start(options: SystemOptions & { pool?: import('./pool.js').PoolOptions } = {}): Promise<ActorSystem> {
    const { WorkerPool } = await import('./pool.js');
    const { pool: poolOptions, ...systemOptions } = options;
    const system = new ActorSystem({ ...systemOptions, host: 0 });
    if (systemOptions.envelope !== undefined) system.envelope = await loadEnvelopeContext(systemOptions.envelope);
    const pool = new WorkerPool(system, poolOptions ?? {}, systemOptions);
    system.pool = pool;
    await pool.start();
    return system;
  }

  /** The worker pool, when started with `ActorSystem.start`. */
  get workers(): import('./pool.js').WorkerPool | null {
    return this.pool;
  }

  /** Metrics of every host of this system (just this thread without a pool). */
  metricsSnapshot(): import('./metrics.js').RuntimeMetricsSnapshot {
    if (this.pool !== null) return this.pool.snapshot();
    return { hosts: [this.metrics.snapshot()], workerReplacements: 0, pendingAsks: this.asks.pending };
  }

  constructor(options: SystemOptions = {}) {
    this.host = options.host ?? 0;
    if (!Number.isInteger(this.host) || this.host < 0 || this.host >= MAX_HOSTS) throw new RangeError(`host must be 0..${MAX_HOSTS - 1}`);
    this.metrics = new HostMetrics(this.host);
    this.scheduler = new Scheduler(options.throughput ?? 64, options.turnBudget ?? 16_384);
    this.askTimeoutMs = options.askTimeoutMs ?? 5_000;
    this.defaultMailboxCapacity = options.defaultMailboxCapacity ?? 10_000;
    this.defaultSupervision = options.defaultSupervision ?? DEFAULT_SUPERVISION;
    this.guardianSupervision = options.guardianSupervision ?? this.defaultSupervision;
    this.deadLetterHistory = options.deadLetterHistory ?? 100;
    this.recentDeadLetters = new Ring<DeadLetter>(this.deadLetterHistory);
  }

  // ---------------------------------------------------------------- spawning

  /**
   * Spawns a top-level actor, supervised by the system. With a worker placement
   * (`{key}` or `{worker}`) and a pool, it runs on that worker; props must then
   * be a module spec. The ref is usable at once: messages queue until it starts.
   */
  spawn<M>(props: Props<M>, options: SpawnOptions = {}): ActorRef<M> {
    if (this.shuttingDown) throw new UnavailableError('shutting_down', 'the actor system is shutting down');
    const placement = options.placement;
    if (placement !== undefined && placement !== 'local' && this.remote !== null) {
      const host = this.remote.place(placement);
      if (host !== undefined && host !== this.host) {
        if (typeof props === 'function' || !('module' in props)) {
          throw new RuntimeError('INVALID_REQUEST', 'not_serializable', 'actors placed on a worker need module props ({ module, export, args })', false);
        }
        const ref = new ActorRef<M>(host, this.allocateId(), this);
        if (options.name !== undefined) this.registerName(options.name, ref);
        this.remote.spawn(ref, props, options);
        return ref;
      }
    }
    return this.spawnLocal(props, options, null);
  }

  /** Spawns on this thread (children always do). `id` is given when another host chose it. */
  spawnLocal<M>(props: Props<M>, options: SpawnOptions, parent: ActorCell | null, id?: number): ActorRef<M> {
    if (parent !== null && (parent.flags & (STOPPING | STOPPED)) !== 0) {
      throw new ActorNotFoundError(parent.self.path);
    }
    const ref = new ActorRef<M>(this.host, id ?? this.allocateId(), this);
    if (options.name !== undefined) this.registerName(options.name, ref);
    const cell = new ActorCell<M>(this, ref, parent, options);
    this.cells.set(ref.id, cell as ActorCell);
    if (parent === null) this.topLevel.add(cell as ActorCell);
    else (parent.childCells ??= new Set()).add(cell as ActorCell);
    this.metrics.actors++;
    this.metrics.spawned++;
    if (typeof props === 'function') {
      this.boot(cell as ActorCell, props as BehaviorFactory<unknown, unknown>, undefined);
    } else if ('factory' in props) {
      this.boot(cell as ActorCell, props.factory as BehaviorFactory<unknown, unknown>, props.args);
    } else {
      const loaded = this.loadModule(props);
      if (typeof loaded === 'function') {
        this.boot(cell as ActorCell, loaded, props.args);
      } else {
        cell.flags |= LOADING;
        loaded.then(
          (f) => {
            cell.flags &= ~LOADING;
            if ((cell.flags & (STOPPING | STOPPED)) !== 0) return;
            this.boot(cell as ActorCell, f, props.args);
          },
          (err: unknown) => {
            cell.flags &= ~LOADING;
            const failing = (): Behavior => {
              throw err;
            };
            cell.makeBehavior = failing;
            cell.behavior = { receive() { throw err; } };
            cell.fail(err);
          },
        );
      }
    }
    return ref;
  }

  private boot(cell: ActorCell, factory: BehaviorFactory<unknown, unknown>, args: unknown): void {
    cell.makeBehavior = factory;
    cell.behaviorArgs = args;
    try {
      cell.behavior = factory(args);
    } catch (err) {
      cell.behavior = { receive() { throw err; } };
      cell.fail(err);
      return;
    }
    cell.start(undefined, false);
  }

  private allocateId(): number {
    return this.nextId++ * MAX_HOSTS + this.host;
  }

  /** The named export of a behaviour module: sync once cached, a promise on first import. */
  private loadModule(props: ModuleProps): BehaviorFactory<unknown, unknown> | Promise<BehaviorFactory<unknown, unknown>> {
    const key = props.export ?? 'default';
    const pick = (mod: Record<string, unknown>): BehaviorFactory<unknown, unknown> => {
      const f = mod[key];
      if (typeof f !== 'function') throw new RuntimeError('INVALID_REQUEST', 'bad_props', `${props.module} has no function export "${key}"`, false);
      return f as BehaviorFactory<unknown, unknown>;
    };
    const cached = this.modules.get(props.module);
    if (cached !== undefined) return pick(cached);
    return import(props.module).then((mod: Record<string, unknown>) => {
      this.modules.set(props.module, mod);
      return pick(mod);
    });
  }

  // ---------------------------------------------------------------- names

  private registerName(name: string, ref: ActorRef): void {
    const existing = this.names.get(name);
    if (existing !== undefined && !existing.equals(ref)) {
      throw new RuntimeError('INVALID_REQUEST', 'name_taken', `an actor named "${name}" already exists`, false);
    }
    this.names.set(name, ref);
    if (ref.host === this.host) this.nameOf.set(ref.id, name);
  }

  /** The actor registered under `name` by this system, if it is running. */
  lookup<M = unknown>(name: string): ActorRef<M> | undefined {
    return this.names.get(name) as ActorRef<M> | undefined;
  }

  /** Forgets a name (used when a remote actor registered here stops for good). */
  unregisterName(ref: ActorRef): void {
    for (const [name, r] of this.names) if (r.equals(ref)) this.names.delete(name);
  }

  /** A ref to (host, id), bound to this system (used when refs cross threads). */
  refFor(host: number, id: number): ActorRef {
    return new ActorRef(host, id, this);
  }

  /** Whether a local actor with this id is alive. */
  isAlive(ref: ActorRef): boolean {
    const cell = this.cells.get(ref.id);
    return ref.host === this.host && cell !== undefined && (cell.flags & (STOPPING | STOPPED)) === 0;
  }

  // ---------------------------------------------------------------- messaging

  deliver(target: ActorRef, message: unknown, sender: ActorRef | undefined): void {
    const msg = this.envelope === null ? message : this.carry(message);
    if (target.host === this.host) {
      this.deliverLocal(target, msg, sender, undefined);
    } else if (this.remote !== null) {
      this.remote.tell(target, msg, sender);
    } else {
      this.deadLetter(target, msg, sender, undefined);
    }
  }

  /** Delivers to a local actor. Throws MailboxFullError for a tell to a full `reject` mailbox. */
  deliverLocal(target: ActorRef, msg: unknown, sender: ActorRef | undefined, reply: ReplyTo | undefined): void {
    this.deliverToId(target.id, msg, sender, reply, target);
  }

  /** As deliverLocal, by id (frames from other threads carry ids, not refs). */
  deliverToId(id: number, msg: unknown, sender: ActorRef | undefined, reply: ReplyTo | undefined, target?: ActorRef): void {
    const cell = this.cells.get(id);
    if (cell === undefined || (cell.flags & (STOPPING | STOPPED)) !== 0) {
      this.deadLetter(target ?? this.refFor(this.host, id), msg, sender, reply);
      return;
    }
    const mb = cell.mailbox;
    if (mb.size >= mb.capacity) {
      this.metrics.dropped++;
      switch (cell.overflow) {
        case 'reject': {
          const err = new MailboxFullError(cell.self.path, mb.capacity);
          if (reply !== undefined) reply.reject(err);
          else throw err;
          return;
        }
        case 'drop-newest':
          reply?.reject(new MailboxFullError(cell.self.path, mb.capacity));
          return;
        case 'drop-oldest': {
          const oldReply = mb.peekReply();
          mb.shift();
          this.metrics.mailboxDepth--;
          oldReply?.reject(new MailboxFullError(cell.self.path, mb.capacity));
          break;
        }
      }
    }
    mb.push(msg, sender, reply);
    this.metrics.mailboxDepth++;
    if ((cell.flags & BLOCKED) === 0) this.scheduler.schedule(cell);
  }

  /** The message with the sender's current envelope context, when there is one. */
  private carry(msg: unknown): unknown {
    const context = (this.envelope as EnvelopeContext).capture();
    return context === undefined ? msg : new Carried(msg, context);
  }

  askRef<R>(target: ActorRef, message: unknown, options: AskOptions | undefined): Promise<R> {
    const msg = this.envelope === null ? message : this.carry(message);
    const timeoutMs = options?.timeoutMs ?? this.askTimeoutMs;
    if (target.host === this.host) {
      const ask = this.asks.create(timeoutMs, target.path, target.host, false);
      this.deliverLocal(target, msg, undefined, ask);
      return ask.promise as Promise<R>;
    }
    if (this.remote === null) return Promise.reject(new ActorNotFoundError(target.path));
    const ask = this.asks.create(timeoutMs, target.path, target.host, true);
    this.remote.ask(target, msg, ask);
    return ask.promise as Promise<R>;
  }

  // ---------------------------------------------------------------- dead letters and events

  deadLetter(target: ActorRef, message: unknown, sender: ActorRef | undefined, reply: ReplyTo | undefined): void {
    this.metrics.deadLetters++;
    if (reply !== undefined) {
      reply.reject(this.shuttingDown
        ? new UnavailableError('shutting_down', 'the actor system is shutting down')
        : new ActorNotFoundError(target.path));
    }
    this.publishDeadLetter({ target: target.path, message: bareMessage(message), sender: sender?.path, at: Date.now() });
  }

  /**
   * A tell this thread sent was refused by another thread's full mailbox and
   * came back: the sender, when the tell named one, gets a `Rejected` notice;
   * either way it is counted and published with the dead letters.
   */
  rejected(target: ActorRef, message: unknown, sender: ActorRef | undefined, error: RuntimeError): void {
    this.metrics.rejected++;
    this.publishDeadLetter({ target: target.path, message, sender: sender?.path, at: Date.now(), reason: error.reason });
    if (sender !== undefined) {
      const notice: Rejected = { type: 'troupe.rejected', target, message, code: error.code, reason: error.reason };
      this.deliverQuietly(sender, notice);
    }
  }

  private publishDeadLetter(d: DeadLetter): void {
    if (this.recentDeadLetters.length >= this.deadLetterHistory) this.recentDeadLetters.shift();
    this.recentDeadLetters.push(d);
    for (const l of this.deadLetterListeners) {
      try {
        l(d);
      } catch {
        // a listener's failure must not affect delivery
      }
    }
  }

  /** Subscribes to dead letters; returns an unsubscribe function. */
  onDeadLetter(listener: (d: DeadLetter) => void): () => void {
    this.deadLetterListeners.add(listener);
    return () => this.deadLetterListeners.delete(listener);
  }

  /** The most recent dead letters, oldest first. */
  deadLetters(): DeadLetter[] {
    const out: DeadLetter[] = [];
    const n = this.recentDeadLetters.length;
    for (let i = 0; i < n; i++) {
      const d = this.recentDeadLetters.shift() as DeadLetter;
      out.push(d);
      this.recentDeadLetters.push(d);
    }
    return out;
  }

  /** Subscribes to supervision events (failures, escalations at the top). */
  onEvent(listener: (e: SystemEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  private emit(e: SystemEvent): void {
    for (const l of this.eventListeners) {
      try {
        l(e);
      } catch {
        // ignore listener failures
      }
    }
  }

  // ---------------------------------------------------------------- supervision

  /** A cell failed (it is suspended). Its parent's spec decides what happens. */
  handleFailure(cell: ActorCell, err: unknown): void {
    if ((cell.flags & (STOPPING | STOPPED)) !== 0) return;
    this.emit({ type: 'failure', actor: cell.self.path, error: err });
    const parent = cell.parentCell;
    const spec = parent === null ? this.guardianSupervision : parent.supervision;
    const restart = cell.options.restart ?? 'permanent';
    if (restart === 'temporary') {
      this.terminate(cell, 'failed');
      return;
    }
    if (!this.recordRestart(parent, spec)) {
      this.escalate(parent, cell, err);
      return;
    }
    const siblings = [...(parent === null ? this.topLevel : (parent.childCells ?? [cell]))];
    let targets: ActorCell[];
    switch (spec.strategy) {
      case 'one-for-one':
        targets = [cell];
        break;
      case 'one-for-all':
        targets = siblings;
        break;
      case 'rest-for-one':
        targets = siblings.slice(Math.max(0, siblings.indexOf(cell)));
        break;
    }
    // Stop in reverse start order, restart in start order (as OTP does).
    for (let i = targets.length - 1; i >= 0; i--) this.suspendForRestart(targets[i], err);
    for (const t of targets) this.restart(t, err, spec);
  }

  /** Records one restart against the supervisor's intensity; false when over the limit. */
  private recordRestart(parent: ActorCell | null, spec: SupervisorSpec): boolean {
    const now = Date.now();
    const log = parent === null ? this.guardianLog : parent.ext.restartLog;
    while (log.length > 0 && log[0] <= now - spec.withinMs) log.shift();
    if (log.length >= spec.maxRestarts) return false;
    log.push(now);
    return true;
  }

  private escalate(parent: ActorCell | null, child: ActorCell, err: unknown): void {
    this.metrics.escalations++;
    if (parent === null) {
      // Nothing above the guardian: the failing actor stops for good. The process lives on.
      this.emit({ type: 'escalation', actor: child.self.path, error: err });
      this.terminate(child, 'failed');
      return;
    }
    if ((parent.flags & SUSPENDED) !== 0) return;
    parent.flags |= SUSPENDED;
    this.metrics.failures++;
    this.handleFailure(parent, new RuntimeError('INTERNAL', 'escalated', `child ${child.self.path} exceeded its restart intensity`, false, { cause: err }));
  }

  private suspendForRestart(cell: ActorCell, reason: unknown): void {
    if ((cell.flags & (STOPPING | STOPPED)) !== 0) return;
    cell.flags |= SUSPENDED;
    cell.flags &= ~(BUSY | STOP_REQUESTED);
    cell.incarnation++;
    const reply = cell.curReply;
    cell.curReply = undefined;
    cell.curSender = undefined;
    reply?.reject(new RuntimeError('UNAVAILABLE', 'restarting', `actor ${cell.self.path} is restarting`, true));
    try {
      cell.behavior?.preRestart?.(cell, reason);
    } catch {
      // a failing hook must not stop the restart
    }
    this.terminateChildren(cell);
  }

  /** Stops a cell's children, last started first. */
  private terminateChildren(cell: ActorCell): void {
    if (cell.childCells === null) return;
    const kids = [...cell.childCells];
    for (let i = kids.length - 1; i >= 0; i--) this.terminate(kids[i], 'stopped');
  }

  private restart(cell: ActorCell, reason: unknown, spec: SupervisorSpec): void {
    if ((cell.flags & (STOPPING | STOPPED)) !== 0) return;
    const now = Date.now();
    const ext = cell.ext;
    if (now - ext.lastRestartAt > spec.withinMs) ext.restartStreak = 0;
    ext.lastRestartAt = now;
    const delay = spec.backoff === undefined ? 0
      : Math.min(spec.backoff.maxMs, spec.backoff.minMs * (spec.backoff.factor ?? 2) ** ext.restartStreak);
    ext.restartStreak++;
    const go = (): void => {
      ext.timer = undefined;
      if ((cell.flags & (STOPPING | STOPPED)) !== 0 || this.shuttingDown) return;
      try {
        cell.behavior = (cell.makeBehavior as BehaviorFactory<unknown, unknown>)(cell.behaviorArgs);
      } catch (err) {
        cell.flags &= ~SUSPENDED;
        cell.fail(err);
        return;
      }
      cell.flags &= ~(SUSPENDED | SELF_STOP);
      this.metrics.restarts++;
      cell.start(reason, true);
    };
    if (delay > 0) ext.timer = setTimeout(go, delay);
    else go();
  }

  /** After a message or hook completes: act on a pending stop, or keep running. */
  afterMessage(cell: ActorCell): void {
    if ((cell.flags & STOP_REQUESTED) !== 0 && (cell.flags & BUSY) === 0) {
      const selfStop = (cell.flags & SELF_STOP) !== 0;
      cell.flags &= ~(STOP_REQUESTED | SELF_STOP);
      if (selfStop && (cell.options.restart ?? 'permanent') === 'permanent' && !this.shuttingDown) {
        // A permanent actor that exits on its own is restarted (OTP semantics).
        cell.flags |= SUSPENDED;
        this.handleFailure(cell, new RuntimeError('INTERNAL', 'exited', 'permanent actor stopped itself', false));
        return;
      }
      this.terminate(cell, 'stopped');
      return;
    }
    if (cell.runnable) this.scheduler.schedule(cell);
  }

  // ---------------------------------------------------------------- stopping

  /**
   * Stops an actor for good, after the message it is handling. Its children stop
   * first; its remaining mail becomes dead letters. Resolves once it has stopped.
   */
  stop(ref: ActorRef): Promise<void> {
    if (ref.host !== this.host) {
      this.remote?.stop(ref);
      return Promise.resolve();
    }
    const cell = this.cells.get(ref.id);
    if (cell === undefined || (cell.flags & STOPPED) !== 0) return Promise.resolve();
    const done = new Promise<void>((resolve) => cell.ext.stopWaiters.push(resolve));
    if ((cell.flags & STOPPING) === 0) {
      if ((cell.flags & BUSY) !== 0) cell.flags |= STOP_REQUESTED;
      else this.terminate(cell, 'stopped');
    }
    return done;
  }

  /** Terminates a cell now: children first (reverse start order), then postStop, then watchers. */
  terminate(cell: ActorCell, reason: TerminationReason): void {
    if ((cell.flags & (STOPPING | STOPPED)) !== 0) return;
    cell.flags |= STOPPING;
    cell.incarnation++;
    if (cell.extra?.timer !== undefined) clearTimeout(cell.extra.timer);
    this.terminateChildren(cell);
    const reply = cell.curReply;
    cell.curReply = undefined;
    reply?.reject(new ActorNotFoundError(cell.self.path));
    cell.mailbox.drain((msg, sender, r) => {
      this.metrics.mailboxDepth--;
      this.deadLetter(cell.self, msg, sender, r);
    });
    let r: unknown;
    try {
      r = cell.behavior?.postStop?.(cell);
    } catch {
      // postStop failing must not keep the actor alive
    }
    const finish = (): void => this.finishTermination(cell, reason);
    if (isThenable(r)) r.then(finish, finish);
    else finish();
  }

  private finishTermination(cell: ActorCell, reason: TerminationReason): void {
    cell.flags |= STOPPED;
    this.cells.delete(cell.self.id);
    if (this.nameOf.size > 0) {
      const name = this.nameOf.get(cell.self.id);
      if (name !== undefined) {
        this.nameOf.delete(cell.self.id);
        this.names.delete(name);
      }
    }
    if (cell.parentCell === null) this.topLevel.delete(cell);
    else cell.parentCell.childCells?.delete(cell);
    this.metrics.actors--;
    this.metrics.stopped++;
    const watchers = cell.watchers;
    cell.watchers = null;
    if (watchers !== null) {
      const msg: Terminated = { type: 'troupe.terminated', ref: cell.self, reason };
      for (const w of watchers) this.deliverQuietly(w, msg);
    }
    this.remote?.actorStopped?.(cell.self);
    const waiters = cell.extra?.stopWaiters;
    if (waiters !== undefined) for (const w of waiters.splice(0)) w();
  }

  /** Tells, turning a full mailbox into a counted drop instead of an exception. */
  deliverQuietly(target: ActorRef, msg: unknown): void {
    try {
      this.deliver(target, msg, undefined);
    } catch {
      // already counted as a drop
    }
  }

  // ---------------------------------------------------------------- death watch

  watch(target: ActorRef, watcher: ActorRef): void {
    if (target.host !== this.host) {
      if (this.remote === null) this.deliverQuietly(watcher, { type: 'troupe.terminated', ref: target, reason: 'unavailable' } satisfies Terminated);
      else this.remote.watch(target, watcher);
      return;
    }
    const cell = this.cells.get(target.id);
    if (cell === undefined || (cell.flags & (STOPPING | STOPPED)) !== 0) {
      this.deliverQuietly(watcher, { type: 'troupe.terminated', ref: target, reason: 'stopped' } satisfies Terminated);
      return;
    }
    const list = (cell.watchers ??= []);
    if (!list.some((w) => w.equals(watcher))) list.push(watcher);
  }

  unwatch(target: ActorRef, watcher: ActorRef): void {
    if (target.host !== this.host) {
      this.remote?.unwatch(target, watcher);
      return;
    }
    const cell = this.cells.get(target.id);
    if (cell?.watchers) cell.watchers = cell.watchers.filter((w) => !w.equals(watcher));
  }

  // ---------------------------------------------------------------- shutdown

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Stops every actor in reverse start order. Each first gets up to the
   * deadline to drain its mailbox; whatever is left then becomes dead letters.
   * Pending asks reject with UNAVAILABLE. Never hangs past the deadline.
   */
  async shutdownLocal(deadlineMs = 5_000): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    const until = Date.now() + deadlineMs;
    while (Date.now() < until && this.busyCells() > 0) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const order = [...this.topLevel].reverse();
    const stops = order.map((c) => {
      const p = new Promise<void>((resolve) => c.ext.stopWaiters.push(resolve));
      this.terminate(c, 'stopped');
      return p;
    });
    const left = Math.max(0, until - Date.now());
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(stops), new Promise((r) => (timer = setTimeout(r, left)))]);
    clearTimeout(timer);
    this.asks.failAll(() => new UnavailableError('shutting_down', 'the actor system is shutting down'));
  }

  private busyCells(): number {
    let n = 0;
    for (const c of this.cells.values()) {
      if (c.mailbox.size > 0 || (c.flags & BUSY) !== 0) n++;
    }
    return n;
  }

  /** Shuts this system down; a pooled system also drains and terminates its workers. */
  shutdown(deadlineMs = 5_000): Promise<void> {
    return this.pool !== null ? this.pool.shutdown(deadlineMs) : this.shutdownLocal(deadlineMs);
  }

  /** Number of live actors on this thread. */
  get size(): number {
    return this.cells.size;
  }
}
