/**
 * The one piscina worker behind every TaskPool. It loads the task's module,
 * calls the named export with the task's args and reports the outcome as a
 * plain envelope: thrown errors lose their `code` and other own properties when
 * they cross threads, and the pool needs them (and the failure's stage) to
 * pick a stable error code.
 *
 * The result travels as bytes from v8.serialize (the structured-clone format):
 * a result that cannot be cloned then fails here, as a reportable error,
 * instead of inside piscina's postMessage, which kills the worker and leaves
 * the pool an empty object in place of the error.
 */
import { serialize } from 'node:v8';

/** What the pool posts to the worker. */
export interface WorkerTask {
  /** File URL of an ES module (checked on the main thread). */
  module: string;
  export: string;
  args: unknown;
}

/** Where a failure happened inside the worker. */
export type FailureStage = 'load' | 'export' | 'call' | 'result';

export interface WireFailure {
  stage: FailureStage;
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

/** `value` is the v8.serialize'd result. */
export type TaskOutcome = { ok: true; value: Uint8Array } | { ok: false; failure: WireFailure };

/**
 * Module namespaces by URL. Node caches modules itself; this only saves the
 * resolution per call. Bounded so a stream of distinct URLs cannot grow it.
 */
const MAX_CACHED_MODULES = 256;
const modules = new Map<string, Promise<Record<string, unknown>>>();

function load(url: string): Promise<Record<string, unknown>> {
  let ns = modules.get(url);
  if (ns === undefined) {
    if (modules.size >= MAX_CACHED_MODULES) modules.delete(modules.keys().next().value as string);
    ns = import(url) as Promise<Record<string, unknown>>;
    modules.set(url, ns);
    // A failed import is not remembered, so a module fixed on disk loads next time.
    ns.catch(() => modules.delete(url));
  }
  return ns;
}

function toFailure(stage: FailureStage, err: unknown): WireFailure {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { stage, name: err.name, message: err.message, code: typeof code === 'string' ? code : undefined, stack: err.stack };
  }
  return { stage, name: 'Error', message: String(err) };
}

export default async function runTask(task: WorkerTask): Promise<TaskOutcome> {
  let ns: Record<string, unknown>;
  try {
    ns = await load(task.module);
  } catch (err) {
    return { ok: false, failure: toFailure('load', err) };
  }
  const fn = ns[task.export];
  if (typeof fn !== 'function') {
    const message = `module ${task.module} has no function export named '${task.export}'`;
    return { ok: false, failure: { stage: 'export', name: 'TypeError', message } };
  }
  let value: unknown;
  try {
    value = await (fn as (args: unknown) => unknown)(task.args);
  } catch (err) {
    return { ok: false, failure: toFailure('call', err) };
  }
  try {
    return { ok: true, value: serialize(value) };
  } catch (err) {
    return { ok: false, failure: toFailure('result', err) };
  }
}
