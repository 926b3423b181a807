/**
 * The OpenTelemetry SDK side of tracing.ts, imported only when tracing
 * starts: the tracer provider, the sampler, the context manager and
 * propagator, the bounded batch processor and the OTLP/HTTP exporter of the
 * configured protocol (only that one is loaded).
 */
import { isMainThread, threadId } from 'node:worker_threads';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler, AlwaysOnSampler, BasicTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler, type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { BoundedBatchProcessor } from './span_batch.js';
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

async function exporter(config: TracingConfig): Promise<SpanExporter> {
  const options = { url: config.url, headers: { ...config.headers }, timeoutMillis: config.timeoutMs };
  if (config.protocol === 'http/protobuf') return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter(options);
  return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter(options);
}

export async function startSdk(config: TracingConfig): Promise<StartedTracing> {
  const processor = new BoundedBatchProcessor(await exporter(config), {
    maxQueueSize: config.maxQueueSize, maxExportBatchSize: config.maxExportBatchSize, delayMs: config.delayMs, exportTimeoutMs: config.timeoutMs,
  });
  const provider = new BasicTracerProvider({
    // Each thread exports its own spans; `troupe.thread` says which (main, or worker-<threadId>).
    resource: resourceFromAttributes({ 'service.name': config.serviceName, 'troupe.thread': isMainThread ? 'main' : `worker-${threadId}` }),
    sampler: sampler(config),
    spanProcessors: [processor],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    tracer: provider.getTracer('troupe'),
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
