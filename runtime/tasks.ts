/**
 * TaskPool: runs blocking or untrusted work (later: tools) on a piscina pool of
 * worker threads, each task with a deadline, an optional caller AbortSignal and
 * V8 resourceLimits. A task that loops forever or eats memory loses its worker;
 * piscina starts another and the other tasks never notice.
 *
 * How a task is stopped: the pool gives piscina one AbortSignal per task. When
 * the deadline passes or the caller aborts, piscina rejects the task and, if it
 * is already running, terminates its worker (worker.terminate() interrupts
 * even `while (true) {}`); a task still waiting is just taken off the queue.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { deserialize } from 'node:v8';
import type { Piscina } from 'piscina';
import { UnavailableError } from './errors.js';
import {
  InvalidTaskError, TaskAbortedError, TaskFailedError, TaskOutOfMemoryError, TaskQueueFullError, TaskTimeoutError, errorFromOutcome,
  errorFromPool,
} from './task_errors.js';
import type { TaskOutcome, WorkerTask } from './task_worker.js';

/**
 * piscina is loaded by the first TaskPool, not by importing this module:
 * runtime/index.ts re-exports TaskPool, and a process that never isolates a
 * tool (the gateway's main thread, most actor workers) would otherwise carry
 * piscina and its dependencies (~7 MB of RSS) for nothing. It is CommonJS, so
 * a synchronous require keeps the constructor synchronous.
 */
let piscinaClass: typeof Piscina | undefined;
function loadPiscina(): typeof Piscina {
  piscinaClass ??= (createRequire(import.meta.url)('piscina') as { Piscina: typeof Piscina }).Piscina;
  return piscinaClass;
}

export interface TaskResourceLimits {
  maxOldGenerationSizeMb?: number;
  maxYoungGenerationSizeMb?: number;
  stackSizeMb?: number;
}

export interface TaskPoolOptions {
  /** Workers kept alive while idle (default 0: started on demand). */
  minThreads?: number;
  /** Default max(1, availableParallelism() - 1). */
  maxThreads?: number;
  /** An idle worker above minThreads exits after this long (default 10 s). */
  idleTimeoutMs?: number;
  /** Deadline of a task that sets none, counted from `run()` (queue time included). Default 30 s. */
  defaultTimeoutMs?: number;
  /** Per worker. Default: 256 MB old generation, V8 defaults for the rest. */
  resourceLimits?: TaskResourceLimits;
  /** Tasks that may wait for a worker beyond those running (default 1024). */
  maxQueue?: number;
}

export interface TaskSpec {
  /** File URL of an ES module, e.g. `new URL('./my_task.js', import.meta.url).href`. */
  module: string;
  /** Name of the exported function to call (default 'default'); it may be sync or async. */
  export?: string;
  /** Its single argument; must survive structured clone. */
  args?: unknown;
}

export interface TaskRunOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Counters only grow; gauges are current values. */
export interface TaskPoolMetricsSnapshot {
  submitted: number;
  completed: number;
  failed: number;
  timedOut: number;
  aborted: number;
  outOfMemory: number;
  rejected: number;
  /** Errors of idle workers (nothing was waiting on them). */
  workerErrors: number;
  inFlight: number;
  queueSize: number;
  threads: number;
}

export const DEFAULT_TASK_TIMEOUT_MS = 30_000;
export const DEFAULT_TASK_MAX_QUEUE = 1024;
export const DEFAULT_TASK_OLD_GENERATION_MB = 256;
// setTimeout fires at once for delays above 2^31 - 1 ms.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

const WORKER_FILE = new URL('./task_worker.js', import.meta.url).href;

function checkCount(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

function timeoutProblem(name: string, value: number): string | null {
  if (Number.isInteger(value) && value >= 1 && value <= MAX_TIMEOUT_MS) return null;
  return `${name} must be an integer between 1 and ${MAX_TIMEOUT_MS} ms, got ${value}`;
}

function checkLimits(limits: TaskResourceLimits): TaskResourceLimits {
  for (const [key, value] of Object.entries(limits)) {
    if (value !== undefined && !(typeof value === 'number' && value > 0 && Number.isFinite(value))) {
      throw new RangeError(`resourceLimits.${key} must be a positive number of MB, got ${String(value)}`);
    }
  }
  return { maxOldGenerationSizeMb: DEFAULT_TASK_OLD_GENERATION_MB, ...limits };
}

/** Rejects specs that would fail obscurely in the worker, and non-file URLs (no data: or remote code). */
function checkSpec(task: TaskSpec): WorkerTask {
  if (task === null || typeof task !== 'object' || typeof task.module !== 'string') {
    throw new InvalidTaskError('task_invalid', 'a task needs { module: <file URL> }');
  }
  let url: URL;
  try {
    url = new URL(task.module);
  } catch {
    throw new InvalidTaskError('task_invalid', `task module must be a file URL, got '${task.module}'`);
  }
  if (url.protocol !== 'file:') throw new InvalidTaskError('task_invalid', `task module must be a file: URL, got ${url.protocol}`);
  const name = task.export ?? 'default';
  if (typeof name !== 'string' || name === '') throw new InvalidTaskError('task_invalid', 'task export must be a non-empty string');
  return { module: url.href, export: name, args: task.args };
}

export class TaskPool {
  readonly maxThreads: number;
  readonly maxQueue: number;
  readonly defaultTimeoutMs: number;
  private readonly pool: Piscina<WorkerTask, TaskOutcome>;
  private readonly counters = {
    submitted: 0, completed: 0, failed: 0, timedOut: 0, aborted: 0, outOfMemory: 0, rejected: 0, workerErrors: 0,
  };
  private inFlight = 0;
  private closing: Promise<void> | null = null;
  private onDrained: (() => void) | null = null;

  constructor(options: TaskPoolOptions = {}) {
    this.maxThreads = checkCount('maxThreads', options.maxThreads ?? Math.max(1, availableParallelism() - 1), 1);
    const minThreads = checkCount('minThreads', options.minThreads ?? 0, 0);
    if (minThreads > this.maxThreads) throw new RangeError(`minThreads (${minThreads}) exceeds maxThreads (${this.maxThreads})`);
    this.maxQueue = checkCount('maxQueue', options.maxQueue ?? DEFAULT_TASK_MAX_QUEUE, 0);
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS;
    const badTimeout = timeoutProblem('defaultTimeoutMs', this.defaultTimeoutMs);
    if (badTimeout !== null) throw new RangeError(badTimeout);
    this.pool = new (loadPiscina())<WorkerTask, TaskOutcome>({
      filename: WORKER_FILE,
      minThreads,
      maxThreads: this.maxThreads,
      idleTimeout: checkCount('idleTimeoutMs', options.idleTimeoutMs ?? 10_000, 0),
      // Our own bound (see run) is the one that counts; piscina's is a backstop.
      maxQueue: this.maxQueue + this.maxThreads,
      resourceLimits: checkLimits(options.resourceLimits ?? {}),
      // Task workers do not inherit this process's flags (loaders, --inspect…):
      // isolated work starts clean, and loaders cannot eat its small heap.
      execArgv: [],
      // An idle piscina worker blocks in Atomics.wait, which would freeze any
      // timers or I/O a task left behind; untrusted code must not hang that way.
      atomics: 'disabled',
    });
    // piscina emits 'error' when a worker with no task fails; unheard, that would crash the process.
    this.pool.on('error', () => {
      this.counters.workerErrors++;
    });
  }

  /**
   * Runs one task on a worker and resolves with what its export returned.
   * Rejects with a RuntimeError: TIMEOUT task_timeout, UNAVAILABLE task_aborted
   * or task_pool_closed, INTERNAL task_out_of_memory or task_failed, OVERLOADED
   * task_queue_full, INVALID_REQUEST task_invalid and kin.
   */
  async run<T = unknown>(task: TaskSpec, options: TaskRunOptions = {}): Promise<T> {
    const spec = checkSpec(task);
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    const badTimeout = timeoutProblem('timeoutMs', timeoutMs);
    if (badTimeout !== null) throw new InvalidTaskError('task_invalid', badTimeout);
    if (this.closing !== null) throw new UnavailableError('task_pool_closed', 'the task pool is closed');
    const { signal } = options;
    if (signal?.aborted) {
      this.counters.aborted++;
      throw new TaskAbortedError(spec.module, signal.reason);
    }
    if (this.inFlight >= this.maxThreads + this.maxQueue) {
      this.counters.rejected++;
      throw new TaskQueueFullError(this.maxThreads + this.maxQueue);
    }

    this.counters.submitted++;
    this.inFlight++;
    const stop = new AbortController();
    let stopped: 'timeout' | 'aborted' | null = null;
    const timer = setTimeout(() => {
      stopped = 'timeout';
      stop.abort();
    }, timeoutMs);
    const onAbort = (): void => {
      stopped ??= 'aborted';
      stop.abort();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let outcome: TaskOutcome;
      try {
        outcome = await this.pool.run(spec, { signal: stop.signal });
      } catch (err) {
        throw this.failure(err, stopped, spec.module, timeoutMs, signal);
      }
      if (!outcome.ok) {
        this.counters.failed++;
        throw errorFromOutcome(outcome.failure, spec.module);
      }
      this.counters.completed++;
      return deserialize(outcome.value) as T;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      this.inFlight--;
      if (this.inFlight === 0) this.onDrained?.();
    }
  }

  /** Counts a rejection from piscina and turns it into the error the caller sees. */
  private failure(err: unknown, stopped: 'timeout' | 'aborted' | null, module: string, timeoutMs: number, signal?: AbortSignal): Error {
    if (stopped === 'timeout') {
      this.counters.timedOut++;
      return new TaskTimeoutError(timeoutMs, module);
    }
    if (stopped === 'aborted') {
      this.counters.aborted++;
      return new TaskAbortedError(module, signal?.reason);
    }
    const mapped = errorFromPool(err, module);
    if (mapped instanceof TaskOutOfMemoryError) {
      this.counters.outOfMemory++;
      return mapped;
    }
    this.counters.failed++;
    // While closing, a bare worker failure is the pool terminating its workers.
    if (this.closing !== null && mapped instanceof TaskFailedError) {
      return new UnavailableError('task_pool_closed', `task ${module} was cut short: the task pool closed`);
    }
    return mapped;
  }

  metrics(): TaskPoolMetricsSnapshot {
    return {
      ...this.counters,
      inFlight: this.inFlight,
      queueSize: this.pool.queueSize,
      threads: this.pool.threads.length,
    };
  }

  /**
   * Stops taking tasks, lets running and queued ones finish for up to
   * `deadlineMs`, then terminates the workers; what is still in flight then
   * rejects with UNAVAILABLE task_pool_closed. Safe to call more than once.
   */
  close(deadlineMs = 5_000): Promise<void> {
    this.closing ??= this.shutDown(deadlineMs);
    return this.closing;
  }

  /** Terminates the workers now (close with no grace). */
  destroy(): Promise<void> {
    return this.close(0);
  }

  private async shutDown(deadlineMs: number): Promise<void> {
    if (this.inFlight > 0 && deadlineMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.onDrained = resolve;
        timer = setTimeout(resolve, deadlineMs);
      });
      clearTimeout(timer);
      this.onDrained = null;
    }
    await this.pool.destroy();
  }
}
