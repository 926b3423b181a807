/**
 * This thread's two possible OpenTelemetry context managers.
 *
 * SyncContextManager: the current context is set by `with` for the call's
 * synchronous extent only, not across `await`s. The default on
 * every thread once tracing starts: Node 20's AsyncLocalStorage (what the SDK's
 * AsyncLocalStorageContextManager uses) runs a hook on every promise the
 * thread makes, traced turn or not. Troupe's own code carries a turn's
 * context across its awaits by hand instead (`currentContext`/`withContext`
 * in tracing.ts); a thread that hosts a library client which reads the
 * context after awaits of its own switches to AsyncLocalStorage
 * (`asyncContextOnThisThread`) to AsyncContextManager: the context follows
 * awaits through an AsyncLocalStorage (the SDK's AsyncLocalStorageContextManager
 * does the same, but cannot enter a context for the rest of the current
 * synchronous extent, which a thread switching mid-turn needs).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context, ContextManager } from '@opentelemetry/api';

/**
 * A context as a chain of one-value links. The API's own context copies its
 * whole Map for each value set (a span made current, a carried traceparent
 * entered: a few per turn on every thread); a link is one small object, and
 * a lookup walks a chain only as long as the values set on the way (two or
 * three here). Unsetting a key links an undefined value in front.
 */
class LinkedContext implements Context {
  constructor(
    private readonly parent: LinkedContext | null,
    private readonly key: symbol | null,
    private readonly value: unknown,
  ) {}

  getValue(key: symbol): unknown {
    if (this.key === key) return this.value;
    for (let c = this.parent; c !== null; c = c.parent) if (c.key === key) return c.value;
    return undefined;
  }

  setValue(key: symbol, value: unknown): Context {
    return new LinkedContext(this, key, value);
  }

  deleteValue(key: symbol): Context {
    return new LinkedContext(this, key, undefined);
  }
}

/** The empty context every context of a traced thread descends from (what is current outside any span). */
export const EMPTY_CONTEXT: Context = new LinkedContext(null, null, undefined);

export class SyncContextManager implements ContextManager {
  private current: Context = EMPTY_CONTEXT;

  active(): Context {
    return this.current;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    const previous = this.current;
    this.current = ctx;
    try {
      return fn.apply(thisArg, args);
    } finally {
      this.current = previous;
    }
  }

  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const fn = target as (...args: unknown[]) => unknown;
    return ((...args: unknown[]) => this.with(ctx, fn, undefined, ...args)) as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.current = EMPTY_CONTEXT;
    return this;
  }
}

export class AsyncContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.storage.getStore() ?? EMPTY_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.storage.run(ctx, () => fn.apply(thisArg, args));
  }

  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const fn = target as (...args: unknown[]) => unknown;
    return ((...args: unknown[]) => this.with(ctx, fn, undefined, ...args)) as T;
  }

  /** Makes `ctx` current for the rest of this synchronous extent and what it awaits. */
  enter(ctx: Context): void {
    this.storage.enterWith(ctx);
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.storage.disable();
    return this;
  }
}
