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
import { ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api';

export class SyncContextManager implements ContextManager {
  private current: Context = ROOT_CONTEXT;

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
    this.current = ROOT_CONTEXT;
    return this;
  }
}

export class AsyncContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
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
