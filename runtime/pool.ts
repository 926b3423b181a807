/**
 * WorkerPool: the main thread's view of the actor workers. It starts N worker
 * hosts, links them pairwise, places actors on them, watches their health
 * (exit, out-of-memory, missed heartbeats) and replaces a dead worker in the
 * same slot, so refs to it stay valid: the actors it had placed there are
 * spawned again under the same ids (permanent and transient ones; temporary
 * ones are gone), and every ask that was in flight to it fails with a
 * retryable UNAVAILABLE. Other workers carry on untouched.
 */
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { MessageChannel, Worker, type ResourceLimits } from 'node:worker_threads';
import type { ModuleProps, Placement, SpawnOptions } from './behavior.js';
import { RuntimeError } from './errors.js';
import { Hub } from './hub.js';
import { linkLimits, type LinkLimits } from './link.js';
import { HOST_METRIC_FIELDS, type HostMetricsSnapshot, type RuntimeMetricsSnapshot } from './metrics.js';
import { placeByKey } from './placement.js';
import type { ActorRef } from './ref.js';
import type { ActorSystem, SystemOptions } from './system.js';
import type { ControlMessage, WorkerData } from './worker_host.js';

export interface PoolOptions {
  /** Worker hosts (default: os.availableParallelism()). */
  workers?: number;
  /** How often workers beat (default 250 ms). */
  heartbeatMs?: number;
  /**
   * Missed beats before a worker counts as blocked and is replaced (default 20, i.e. 5 s).
   * It was 8 (2 s): on a machine loaded ten times over its cores, a worker compiling a
   * lazily loaded module or PGlite's first queries went that long without a beat and was
   * killed while healthy ("host N went away" in gateway suites under CI load).
   */
  heartbeatMisses?: number;
  /** V8 limits for each worker; exceeding them kills (and replaces) that worker only. */
  resourceLimits?: ResourceLimits;
  /** How often workers publish metrics (default 500 ms). */
  statsMs?: number;
  /** Delay before replacing a worker that died again soon after starting (doubles, capped). */
  restartBackoff?: { minMs: number; maxMs: number };
  /**
   * Extra worker hosts (after the `workers` ones) that keyed placement never
   * picks: an actor placed there with `{ worker }` has the thread to itself
   * (the gateway's store). They are watched and replaced like any worker.
   */
  reserved?: number;
  /**
   * Missed beats before a reserved worker counts as blocked (default 240, i.e.
   * 60 s): its work may hold the thread for seconds (an embedded database's
   * start runs synchronously in WASM), which is not a hang.
   */
  reservedHeartbeatMisses?: number;
  /**
   * Flow control on every cross-thread link (link.ts): batches and bytes in
   * flight, and user messages queued before a tell or ask is refused with
   * OVERLOADED (`link_full`).
   */
  link?: Partial<LinkLimits>;
}

export type WorkerExitReason = 'error' | 'exit' | 'out_of_memory' | 'unresponsive';

export interface WorkerEvent {
  type: 'worker-exit' | 'worker-ready';
  host: number;
  reason?: WorkerExitReason;
  error?: unknown;
  /** For worker-ready after a replacement: ms from the old worker's exit to the new one being ready. */
  replacementMs?: number;
}

interface Placed {
  ref: ActorRef;
  props: ModuleProps;
  options: SpawnOptions;
}

const WORKER_URL = new URL('./worker_host.js', import.meta.url);

class Slot {
  worker: Worker | null = null;
  ready = false;
  readonly beat = new SharedArrayBuffer(4);
  readonly stats = new SharedArrayBuffer(8 * HOST_METRIC_FIELDS.length);
  lastBeat = -1;
  misses = 0;
  blocked = false;
  lastError: unknown = undefined;
  diedAt = 0;
  startedAt = 0;
  streak = 0;
  stopped: (() => void) | null = null;

  constructor(readonly host: number) {}
}

export class WorkerPool {
  readonly size: number;
  readonly hub: Hub;
  /** Worker replacements since start. */
  replacements = 0;
  private readonly slots: Slot[] = [];
  private readonly placed = new Map<number, Placed>();
  private readonly listeners = new Set<(e: WorkerEvent) => void>();
  private readonly heartbeatMs: number;
  private readonly heartbeatMisses: number;
  private readonly reservedMisses: number;
  private readonly statsMs: number;
  private readonly backoff: { minMs: number; maxMs: number };
  private readonly workerSystem: SystemOptions;
  private checkTimer: NodeJS.Timeout | undefined;
  private mainLag: IntervalHistogram | undefined;
  private closing = false;
  private readyWaiters = new Map<number, () => void>();

  constructor(
    readonly system: ActorSystem,
    private readonly options: PoolOptions,
    systemOptions: SystemOptions,
  ) {
    this.size = options.workers ?? availableParallelism();
    if (!Number.isInteger(this.size) || this.size < 0 || this.size > 256) throw new RangeError('workers must be 0..256');
    const reserved = options.reserved ?? 0;
    if (!Number.isInteger(reserved) || reserved < 0 || reserved > 16) throw new RangeError('reserved must be 0..16');
    this.heartbeatMs = options.heartbeatMs ?? 250;
    this.heartbeatMisses = options.heartbeatMisses ?? 20;
    this.reservedMisses = options.reservedHeartbeatMisses ?? 240;
    this.statsMs = options.statsMs ?? 500;
    this.backoff = options.restartBackoff ?? { minMs: 10, maxMs: 5_000 };
    this.workerSystem = { ...systemOptions, host: undefined };
    this.hub = new Hub(system, {
      link: linkLimits(options.link),
      place: (p) => this.place(p),
      onSpawn: (ref, props, opts) => this.placed.set(ref.id, { ref, props, options: opts }),
      onRemoteStopped: (_host, id) => {
        const p = this.placed.get(id);
        if (p === undefined) return;
        this.placed.delete(id);
        system.unregisterName(p.ref);
      },
    });
    for (let h = 1; h <= this.size + reserved; h++) this.slots.push(new Slot(h));
  }

  async start(): Promise<void> {
    await Promise.all(this.slots.map((s) => this.startWorker(s)));
    this.checkTimer = setInterval(() => this.checkHeartbeats(), this.heartbeatMs);
    this.checkTimer.unref();
    this.mainLag = monitorEventLoopDelay({ resolution: 10 });
    this.mainLag.enable();
  }

  /** Subscribes to worker exits and (re)starts; returns an unsubscribe function. */
  onEvent(listener: (e: WorkerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: WorkerEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // listeners must not break the pool
      }
    }
  }

  /** Hosts of the workers keyed placement uses, 1..N. */
  get hosts(): number[] {
    return this.slots.slice(0, this.size).map((s) => s.host);
  }

  /** Hosts of the reserved workers, N+1..N+R (see PoolOptions.reserved). */
  get reservedHosts(): number[] {
    return this.slots.slice(this.size).map((s) => s.host);
  }

  place(placement: Placement | undefined): number | undefined {
    if (placement === undefined || placement === 'local' || this.slots.length === 0) return undefined;
    if ('worker' in placement) {
      if (!Number.isInteger(placement.worker) || placement.worker < 1 || placement.worker > this.slots.length) {
        throw new RuntimeError('INVALID_REQUEST', 'bad_placement', `worker must be 1..${this.slots.length}`, false);
      }
      return placement.worker;
    }
    if (this.size === 0) return undefined;
    return placeByKey(placement.key, this.hosts);
  }

  private startWorker(slot: Slot): Promise<void> {
    const data: WorkerData = {
      host: slot.host,
      beat: slot.beat,
      stats: slot.stats,
      heartbeatMs: this.heartbeatMs,
      statsMs: this.statsMs,
      system: this.workerSystem,
      link: this.options.link ?? {},
    };
    const worker = new Worker(WORKER_URL, { workerData: data, resourceLimits: this.options.resourceLimits });
    slot.worker = worker;
    slot.ready = false;
    slot.blocked = false;
    slot.lastError = undefined;
    slot.startedAt = Date.now();
    const ready = new Promise<void>((resolve) => this.readyWaiters.set(slot.host, resolve));
    worker.on('message', (m: Uint8Array | ControlMessage) => {
      if (m instanceof Uint8Array) this.hub.receive(slot.host, m);
      else this.control(slot, worker, m);
    });
    worker.on('error', (err) => {
      slot.lastError = err;
    });
    worker.on('exit', () => this.onExit(slot, worker));
    return ready;
  }

  private control(slot: Slot, worker: Worker, m: ControlMessage): void {
    if (slot.worker !== worker) return;
    if (m.ctl === 'ready') {
      slot.ready = true;
      slot.lastBeat = -1;
      slot.misses = 0;
      this.hub.connect(slot.host, worker);
      for (const other of this.slots) {
        if (other === slot || !other.ready || other.worker === null) continue;
        const { port1, port2 } = new MessageChannel();
        worker.postMessage({ ctl: 'link', host: other.host, port: port1 } satisfies ControlMessage, [port1]);
        other.worker.postMessage({ ctl: 'link', host: slot.host, port: port2 } satisfies ControlMessage, [port2]);
      }
      const replaced = slot.diedAt > 0;
      if (replaced) {
        this.respawn(slot.host);
        for (const other of this.slots) {
          if (other !== slot && other.ready) other.worker?.postMessage({ ctl: 'up', host: slot.host } satisfies ControlMessage);
        }
        this.hub.hostUp(slot.host);
      }
      this.emit({ type: 'worker-ready', host: slot.host, replacementMs: replaced ? Date.now() - slot.diedAt : undefined });
      this.readyWaiters.get(slot.host)?.();
      this.readyWaiters.delete(slot.host);
    } else if (m.ctl === 'stopped') {
      slot.stopped?.();
    }
  }

  private onExit(slot: Slot, worker: Worker): void {
    if (slot.worker !== worker) return;
    slot.worker = null;
    slot.ready = false;
    slot.stopped?.();
    if (this.closing) return;
    const err = slot.lastError as { code?: string } | undefined;
    const reason: WorkerExitReason = slot.blocked ? 'unresponsive'
      : err?.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'out_of_memory'
        : err !== undefined ? 'error' : 'exit';
    const now = Date.now();
    slot.diedAt = now;
    this.hub.hostDown(slot.host);
    for (const other of this.slots) {
      if (other.ready) other.worker?.postMessage({ ctl: 'down', host: slot.host } satisfies ControlMessage);
    }
    this.replacements++;
    this.emit({ type: 'worker-exit', host: slot.host, reason, error: slot.lastError });
    // A worker that keeps dying right after start is replaced with growing delays.
    slot.streak = now - slot.startedAt < 5_000 ? slot.streak + 1 : 0;
    const delay = slot.streak <= 1 ? 0 : Math.min(this.backoff.maxMs, this.backoff.minMs * 2 ** (slot.streak - 2));
    setTimeout(() => {
      if (!this.closing) void this.startWorker(slot);
    }, delay);
  }

  /** Re-creates on a replacement worker the actors this thread had placed on its host. */
  private respawn(host: number): void {
    for (const [id, p] of this.placed) {
      if (p.ref.host !== host) continue;
      if ((p.options.restart ?? 'permanent') === 'temporary') {
        this.placed.delete(id);
        this.system.unregisterName(p.ref);
        continue;
      }
      this.system.metrics.restarts++;
      this.hub.spawn(p.ref, p.props, p.options);
    }
  }

  /**
   * Fault injection (tests and benchmarks only; the gateway exposes it only
   * behind TROUPE_ENABLE_FAULTS=1): terminates the worker on `host`, which is
   * then replaced exactly as after a crash. False if it is not running.
   */
  killWorker(host: number): boolean {
    const slot = this.slots.find((s) => s.host === host);
    if (slot === undefined || slot.worker === null || !slot.ready) return false;
    void slot.worker.terminate();
    return true;
  }

  private checkHeartbeats(): void {
    this.hub.settle();
    for (const slot of this.slots) {
      if (!slot.ready || slot.worker === null) continue;
      const b = Atomics.load(new Int32Array(slot.beat), 0);
      if (b !== slot.lastBeat) {
        slot.lastBeat = b;
        slot.misses = 0;
      } else if (++slot.misses >= (slot.host > this.size ? this.reservedMisses : this.heartbeatMisses) && !slot.blocked) {
        slot.blocked = true;
        void slot.worker.terminate();
      }
    }
  }

  /** Metrics of every host, main thread first. */
  snapshot(): RuntimeMetricsSnapshot {
    const main = this.system.metrics;
    if (this.mainLag !== undefined && this.mainLag.count > 0) main.eventLoopLagMs = this.mainLag.percentile(99) / 1e6;
    main.linkQueueDepth = this.hub.queueDepth;
    const hosts: HostMetricsSnapshot[] = [main.snapshot()];
    for (const slot of this.slots) {
      const v = new Float64Array(slot.stats);
      const snap = { host: slot.host } as HostMetricsSnapshot;
      HOST_METRIC_FIELDS.forEach((field, i) => {
        snap[field] = v[i];
      });
      hosts.push(snap);
    }
    return { hosts, workerReplacements: this.replacements, pendingAsks: this.system.asks.pending };
  }

  /** Whether every worker is up. */
  get healthy(): boolean {
    return this.slots.every((s) => s.ready);
  }

  /**
   * Stops workers' actors (each drains up to the deadline) alongside the main
   * thread's, then terminates the workers. Never hangs: past the deadline
   * (plus a short grace) workers are terminated regardless.
   */
  async shutdown(deadlineMs: number): Promise<void> {
    this.closing = true;
    clearInterval(this.checkTimer);
    this.mainLag?.disable();
    const stops = this.slots.map((slot) => new Promise<void>((resolve) => {
      if (slot.worker === null) {
        resolve();
        return;
      }
      slot.stopped = resolve;
      slot.worker.postMessage({ ctl: 'shutdown', deadlineMs } satisfies ControlMessage);
    }));
    const local = this.system.shutdownLocal(deadlineMs);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([...stops, local]), new Promise((r) => (timer = setTimeout(r, deadlineMs + 1_000)))]);
    clearTimeout(timer);
    await Promise.all(this.slots.map((s) => s.worker?.terminate()));
    for (const slot of this.slots) this.hub.hostDown(slot.host, false);
  }
}
