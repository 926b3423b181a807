/**
 * The OpenTelemetry SDK side of tracing.ts, imported only when tracing
 * starts: the tracer provider, the sampler, the context managers (this
 * thread's synchronous one, and AsyncLocalStorage for a thread that asks for
 * it) and propagator, and the bounded batch processor, which encodes spans in the
 * configured protocol and posts them over OTLP/HTTP.
 */
import { isMainThread, threadId } from 'node:worker_threads';
import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler, AlwaysOnSampler, BasicTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler, type ReadableSpan, type Sampler,
} from '@opentelemetry/sdk-trace-base';
import { otlpPost } from './otlp_http.js';
import { ProtobufSpanBatch } from './otlp_protobuf.js';
import { BoundedBatchProcessor, type SpanBatch } from './span_batch.js';
import { AsyncContextManager, SyncContextManager } from './context_managers.js';
import { PooledIdGenerator } from './span_ids.js';
import type { StartedTracing, TracingConfig } from './tracing.js';

function sampler(config: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.samplerArg);
  switch (config.sampler) {
    case 'always_on': return new AlwaysOnSampler();
    case 'always_off': return new AlwaysOffSampler();
    case 'traceidratio': return ratio;
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: ratio });
    default: return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** A new batch in the configured protocol (only JSON's serializer is loaded on demand). */
async function batches(config: TracingConfig): Promise<(first: ReadableSpan) => SpanBatch> {
  if (config.protocol === 'http/json') {
    const { JsonSpanBatch } = await import('./otlp_json.js');
    return () => new JsonSpanBatch();
  }
  return (first) => new ProtobufSpanBatch(first.resource, first.instrumentationScope);
}

export async function startSdk(config: TracingConfig): Promise<StartedTracing> {
  const contentType = config.protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
  const processor = new BoundedBatchProcessor(await batches(config), otlpPost(config.url, contentType, config.headers, config.timeoutMs), {
    maxQueueSize: config.maxQueueSize, maxExportBatchSize: config.maxExportBatchSize, delayMs: config.delayMs,
  });
  const provider = new BasicTracerProvider({
    // Each thread exports its own spans; `troupe.thread` says which (main, or worker-<threadId>).
    resource: resourceFromAttributes({ 'service.name': config.serviceName, 'troupe.thread': isMainThread ? 'main' : `worker-${threadId}` }),
    sampler: sampler(config),
    idGenerator: new PooledIdGenerator(),
    spanProcessors: [processor],
  });
  context.setGlobalContextManager(new SyncContextManager());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    tracer: provider.getTracer('troupe'),
    asyncContextManager(current) {
      const manager = new AsyncContextManager();
      manager.enter(current);
      return manager;
    },
    counts: () => ({ ...processor.counts }),
    flush: () => processor.forceFlush(),
    async shutdown() {
      await provider.shutdown().catch(() => undefined);
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
