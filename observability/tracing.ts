/**
 * OpenTelemetry tracing for one thread. Each thread that runs actors (the main
 * thread and every worker) starts its own tracer provider and OTLP/HTTP
 * exporter from the same TracingConfig; spans are parented across threads by
 * the trace context each message carries (trace_envelope.ts).
 *
 * Off unless started: then `startSpan` returns undefined, and callers write
 * `span?.end()`, so a turn without tracing allocates nothing for it.
 */
import {
  INVALID_SPANID, INVALID_TRACEID, SpanKind, SpanStatusCode, context, trace, type Attributes, type Context, type ContextManager, type Span, type Tracer,
} from '@opentelemetry/api';
import { setAmbientLogFields } from './log.js';
import { EMPTY_CONTEXT, SyncContextManager } from './context_managers.js';
import type { SpanCounts } from './span_batch.js';

export type SamplerName =
  | 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';

/** Where and how spans go (gateway/tracing_config.ts reads it from the standard OTEL_* variables). */
export interface TracingConfig {
  /** The traces URL (…/v1/traces). */
  url: string;
  protocol: 'http/json' | 'http/protobuf';
  serviceName: string;
  sampler: SamplerName;
  /** The ratio for the traceidratio samplers (0..1). */
  samplerArg: number;
  headers: Record<string, string>;
  /** Deadline of one export. */
  timeoutMs: number;
  maxQueueSize: number;
  maxExportBatchSize: number;
  delayMs: number;
}

export { SpanKind };
export type { Attributes, Context, Span };

/** This thread's tracing, once started (tracing_sdk.ts builds it). */
export interface StartedTracing {
  tracer: Tracer;
  /** An enabled AsyncLocalStorage context manager, `current` entered for the rest of this synchronous extent. */
  asyncContextManager(current: Context): ContextManager;
  counts(): SpanCounts;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

let started: StartedTracing | null = null;
let starting: Promise<void> | null = null;
/** Whether this thread switched to AsyncLocalStorage (asyncContextOnThisThread), and whether it asked to before tracing started. */
let asyncContext = false;
let asyncContextWanted = false;

/**
 * Starts tracing on this thread (once; later calls keep the first config).
 * The SDK and the exporter are imported only here: a gateway without tracing
 * never loads them.
 */
export function startTracing(config: TracingConfig): Promise<void> {
  starting ??= import('./tracing_sdk.js').then(async ({ startSdk }) => {
    started = await startSdk(config);
    setAmbientLogFields(traceLogFields);
    if (asyncContextWanted) asyncContextOnThisThread();
  });
  return starting;
}

/** Whether this thread's tracing has started (clients that need a hook to carry `traceparent` install it only then). */
export function tracingStarted(): boolean {
  return started !== null;
}

/** A log line written inside a span names it (docs/operations.md, Logs). */
function traceLogFields(): { traceId: string; spanId: string } | undefined {
  const sc = trace.getSpanContext(context.active());
  return sc === undefined || !trace.isSpanContextValid(sc) ? undefined : { traceId: sc.traceId, spanId: sc.spanId };
}

/**
 * Makes this thread's current context follow synchronous calls only (`inSpan`,
 * `inContext`, `withContext`, a message's handler), not `await`s: the default
 * once tracing starts (context_managers.ts); this undoes `asyncContextOnThisThread`.
 */
export function synchronousContextOnThisThread(): void {
  asyncContextWanted = false;
  if (started === null || !asyncContext) return;
  context.disable(); // also disables the AsyncLocalStorage, and with it the hook
  context.setGlobalContextManager(new SyncContextManager());
  asyncContext = false;
}

/**
 * Makes this thread's current context follow `await`s (Node's
 * AsyncLocalStorage, and with it a hook on every promise of the thread), for
 * good: for a thread that hosts a library client which reads the context
 * after awaits inside the library to put `traceparent` on its requests (the
 * channels' SDKs, MCP's HTTP transport). The context current now stays so.
 * Asked before this thread's tracing has started, it switches when it starts.
 */
export function asyncContextOnThisThread(): void {
  asyncContextWanted = true;
  if (started === null || asyncContext) return;
  const current = context.active();
  context.disable();
  context.setGlobalContextManager(started.asyncContextManager(current));
  asyncContext = true;
}

/** Whether this thread's context follows awaits (tests). */
export function asyncContextOnThisThreadIsOn(): boolean {
  return asyncContext;
}

/** A span under `parent` (default: the current context), or undefined when tracing is off. */
export function startSpan(name: string, kind: SpanKind, attributes?: Attributes, parent?: Context): Span | undefined {
  if (started === null) return undefined;
  // One options object, no spread: the SDK reads an absent `attributes` as none.
  const options: { kind: SpanKind; attributes?: Attributes } = { kind };
  if (attributes !== undefined) options.attributes = attributes;
  return started.tracer.startSpan(name, options, parent ?? context.active());
}

/**
 * A span under the current context's span, or undefined outside a trace (and
 * with tracing off): for work that is part of a turn when a traced message
 * asked for it, and not worth a trace of its own otherwise (a store write).
 */
export function startChildSpan(name: string, kind: SpanKind, attributes?: Attributes): Span | undefined {
  if (started === null) return undefined;
  const parent = context.active();
  return trace.getSpan(parent) === undefined ? undefined : startSpan(name, kind, attributes, parent);
}

/** Calls `fn` with `span` current (so spans and messages it starts are its children); just calls it without a span. */
export function inSpan<R>(span: Span | undefined, fn: () => R): R {
  if (span === undefined) return fn();
  return context.with(trace.setSpan(context.active(), span), fn);
}

/**
 * The context in which `span` is current, under `parent` (default: the
 * current context). Made once per span for code that enters it often (a
 * run's events): `inContext` then allocates nothing per call.
 */
export function spanContext(span: Span, parent?: Context): Context {
  return trace.setSpan(parent ?? context.active(), span);
}

/** Calls `fn(a, b)` with `ctx` current; just calls it when `ctx` already is. */
export function inContext<A, B, R>(ctx: Context, fn: (a: A, b: B) => R, a: A, b: B): R {
  return context.active() === ctx ? fn(a, b) : context.with(ctx, fn, undefined, a, b);
}

/**
 * The current context, for code that carries a turn across its own awaits
 * (the context is current only for a call's synchronous extent on threads
 * without AsyncLocalStorage): undefined with tracing off.
 */
export function currentContext(): Context | undefined {
  return started === null ? undefined : context.active();
}

/** Calls `fn` with `ctx` current (what `currentContext` returned before an await); just calls it without one. */
export function withContext<R>(ctx: Context | undefined, fn: () => R): R {
  return ctx === undefined || context.active() === ctx ? fn() : context.with(ctx, fn);
}

/** Ends a span, marking it failed when `error` is given. */
export function endSpan(span: Span | undefined, error?: unknown): void {
  if (span === undefined) return;
  if (error !== undefined) {
    const e = error as { message?: unknown; code?: unknown };
    span.setStatus({ code: SpanStatusCode.ERROR, message: typeof e?.message === 'string' ? e.message : String(error) });
    if (typeof e?.code === 'string') span.setAttribute('error.type', e.code);
  }
  span.end();
}

/**
 * W3C Trace Context, version 00: `00-<trace id>-<parent id>-<flags>`, lower-case
 * hex, neither id all zeros. (Later versions may append fields; version ff is invalid.)
 */
const TRACEPARENT = /^(?!ff)[\da-f]{2}-((?![0]{32})[\da-f]{32})-((?![0]{16})[\da-f]{16})-([\da-f]{2})(?:-.*)?$/;

export { EMPTY_CONTEXT };

/**
 * The context a client's W3C `traceparent` names, or the empty context when
 * it is absent or malformed (a new trace starts then; never an error).
 */
export function contextFromTraceparent(traceparent: unknown): Context {
  if (typeof traceparent !== 'string' || traceparent.length > 256) return EMPTY_CONTEXT;
  const m = TRACEPARENT.exec(traceparent);
  if (m === null) return EMPTY_CONTEXT;
  return trace.setSpanContext(EMPTY_CONTEXT, { traceId: m[1] as string, spanId: m[2] as string, traceFlags: parseInt(m[3] as string, 16), isRemote: true });
}

let lastContext: Context | undefined;
let lastTraceparent: string | undefined;
/** Inside `untraced`: messages sent now carry no trace. */
let quiet = false;

/**
 * Calls `fn(a)` so that the messages it sends carry no trace context: for
 * messages whose handler starts no span and re-enters the turn's context
 * itself (a run's events to the front door's router, 16+ per turn). Each
 * such message would otherwise carry a traceparent across the thread hop,
 * to be parsed and entered there for nothing.
 */
export function untraced<A>(fn: (a: A) => void, a: A): void {
  if (started === null || quiet) {
    fn(a);
    return;
  }
  quiet = true;
  try {
    fn(a);
  } finally {
    quiet = false;
  }
}

/** The current span's `traceparent`, or undefined outside a trace (cached: deltas of one span share it). */
export function currentTraceparent(): string | undefined {
  if (started === null || quiet) return undefined;
  const active = context.active();
  if (active === lastContext) return lastTraceparent;
  lastContext = active;
  const span = trace.getSpan(active);
  lastTraceparent = span === undefined || !hasIds(span) ? undefined : traceparentOf(span);
  return lastTraceparent;
}

/**
 * Whether a span has ids to carry. Every span here has well-formed ids (the
 * tracer's own, or a client's checked by TRACEPARENT) except the no-op span
 * of a suppressed trace, whose ids are all zeros: the API's
 * `isSpanContextValid` would test both against a regular expression again.
 */
function hasIds(span: Span): boolean {
  const sc = span.spanContext();
  return sc.traceId !== INVALID_TRACEID && sc.spanId !== INVALID_SPANID;
}

/** A span's W3C `traceparent`. */
export function traceparentOf(span: Span): string {
  const sc = span.spanContext();
  return `00-${sc.traceId}-${sc.spanId}-0${(sc.traceFlags & 1).toString(16)}`;
}

/** Headers that carry the current trace to an upstream (empty outside a trace or with tracing off). */
export function traceHeaders(): Record<string, string> {
  const tp = currentTraceparent();
  return tp === undefined ? {} : { traceparent: tp };
}

/** This thread's export counters (zeros when tracing is off). */
export function tracingCounts(): SpanCounts {
  return started === null ? { exported: 0, queueFull: 0, exportFailed: 0 } : started.counts();
}

/** Exports every span ended so far on this thread (tests, shutdown). */
export async function flushTracing(): Promise<void> {
  await started?.flush();
}

/** Flushes and stops this thread's exporter; tracing may be started again afterwards. */
export async function stopTracing(): Promise<void> {
  await starting;
  const s = started;
  started = null;
  starting = null;
  asyncContext = false;
  asyncContextWanted = false;
  lastContext = undefined;
  lastTraceparent = undefined;
  setAmbientLogFields(() => undefined);
  await s?.shutdown();
}
