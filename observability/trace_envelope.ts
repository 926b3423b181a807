/**
 * The trace context as the runtime's envelope context: every message carries
 * the sender's `traceparent`, and its handler runs with that as the current
 * context, so spans it starts have the right parent on any thread. Each thread
 * (main and every worker) loads this module through SystemOptions.envelope,
 * which also starts that thread's tracer provider and exporter.
 */
import { context, type Context } from '@opentelemetry/api';
import type { EnvelopeContext } from '../runtime/index.js';
import { EMPTY_CONTEXT, contextFromTraceparent, currentTraceparent, startTracing, tracingCounts, type TracingConfig } from './tracing.js';
import type { SpanCounts } from './span_batch.js';

/** How many parsed traceparents a thread keeps (then it starts over): a few per turn in flight. */
const RECENT_CONTEXTS = 1024;

export async function traceEnvelope(config: TracingConfig): Promise<EnvelopeContext> {
  await startTracing(config);
  // Messages of one span arrive together (a turn's store writes), interleaved with other turns':
  // parse each traceparent once while it is recent.
  const recent = new Map<unknown, Context>();
  return {
    capture: currentTraceparent,
    run(carried, fn, thisArg, msg, actor) {
      let ctx: Context = EMPTY_CONTEXT;
      if (carried !== undefined) {
        const known = recent.get(carried);
        if (known === undefined) {
          if (recent.size >= RECENT_CONTEXTS) recent.clear();
          ctx = contextFromTraceparent(carried);
          recent.set(carried, ctx);
        } else {
          ctx = known;
        }
      }
      // Already current (a slice of one sender's messages): enter nothing.
      return context.active() === ctx ? fn.call(thisArg, msg, actor) : context.with(ctx, fn, thisArg, msg, actor);
    },
  };
}

/** A worker's export counters, for /metrics (one such actor per worker; see gateway/metrics.ts). */
export function traceCounts(): { receive(): SpanCounts } {
  return { receive: tracingCounts };
}
