/**
 * Errors a TaskPool rejects with, and the mapping from what piscina and the
 * task worker report to them. Every one is a RuntimeError with a stable `code`
 * and a finer `reason`; the table lives in runtime/README.md.
 */
import { RuntimeError } from './errors.js';
import type { WireFailure } from './task_worker.js';

/** The task ran past its deadline; its worker was terminated. */
export class TaskTimeoutError extends RuntimeError {
  constructor(readonly timeoutMs: number, module: string) {
    super('TIMEOUT', 'task_timeout', `task ${module} timed out after ${timeoutMs} ms`, false);
  }
}

/**
 * The caller's AbortSignal fired. UNAVAILABLE because the result will never
 * come; not retryable because the caller itself asked to stop.
 */
export class TaskAbortedError extends RuntimeError {
  constructor(module: string, signalReason: unknown) {
    super('UNAVAILABLE', 'task_aborted', `task ${module} was aborted by the caller`, false, { cause: signalReason });
  }
}

/** The task's worker reached its resourceLimits and was killed by V8. */
export class TaskOutOfMemoryError extends RuntimeError {
  constructor(module: string, cause: unknown) {
    super('INTERNAL', 'task_out_of_memory', `task ${module} ran out of memory and its worker was killed`, false, { cause });
  }
}

/** Running and waiting tasks are at the pool's bound. Retry later. */
export class TaskQueueFullError extends RuntimeError {
  constructor(readonly capacity: number) {
    super('OVERLOADED', 'task_queue_full', `task queue is full (${capacity} running or waiting)`, true);
  }
}

/** The task threw, rejected, or its module failed while loading. */
export class TaskFailedError extends RuntimeError {
  constructor(module: string, message: string, cause: unknown) {
    super('INTERNAL', 'task_failed', `task ${module} failed: ${message}`, false, { cause });
  }
}

/** The task itself is malformed: bad URL, missing module or export, args that cannot be cloned. */
export class InvalidTaskError extends RuntimeError {
  constructor(reason: string, message: string, cause?: unknown) {
    super('INVALID_REQUEST', reason, message, false, cause === undefined ? undefined : { cause });
  }
}

/** Rebuilds the worker's error so callers keep name, message, code and stack as `cause`. */
function errorFromFailure(failure: WireFailure): Error {
  const err = new Error(failure.message);
  err.name = failure.name;
  if (failure.stack !== undefined) err.stack = failure.stack;
  if (failure.code !== undefined) Object.assign(err, { code: failure.code });
  return err;
}

/** Maps a failure the task worker reported in its envelope. */
export function errorFromOutcome(failure: WireFailure, module: string): RuntimeError {
  const cause = errorFromFailure(failure);
  if (failure.stage === 'export') return new InvalidTaskError('task_export_missing', failure.message);
  if (failure.stage === 'result') {
    return new InvalidTaskError('task_not_cloneable', `task ${module}: its result cannot be copied between threads`, cause);
  }
  // The code can be lost when a loader hook (e.g. a test runner's) wraps the resolution error.
  if (failure.stage === 'load' && (failure.code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (module|package)/.test(failure.message))) {
    return new InvalidTaskError('task_module_not_found', `task module ${module} was not found`, cause);
  }
  return new TaskFailedError(module, failure.message, cause);
}

/** Maps a rejection from piscina itself (the worker died, or data could not cross threads). */
export function errorFromPool(err: unknown, module: string): RuntimeError {
  if (err instanceof RuntimeError) return err;
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null;
  if (e?.code === 'ERR_WORKER_OUT_OF_MEMORY') return new TaskOutOfMemoryError(module, err);
  if (e?.name === 'DataCloneError') {
    return new InvalidTaskError('task_not_cloneable', `task ${module}: its args cannot be copied between threads`, err);
  }
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return new TaskFailedError(module, message, err);
}
