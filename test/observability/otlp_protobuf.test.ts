import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type SpanContext } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { otlpPost } from '../../observability/otlp_http.js';
import { ProtobufSpanBatch, spareBuffers } from '../../observability/otlp_protobuf.js';
import { BoundedBatchProcessor } from '../../observability/span_batch.js';
import { decodeTraceRequest } from '../fakes/otlp_proto.js';

/** Spans ended by the real SDK, kept as the SDK hands them to a processor. */
function recorder(): { provider: BasicTracerProvider; ended: ReadableSpan[] } {
  const ended: ReadableSpan[] = [];
  const collect: SpanProcessor = {
    onStart: () => undefined, onEnd: (s) => void ended.push(s), forceFlush: async () => undefined, shutdown: async () => undefined,
  };
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'troupe-test', 'troupe.thread': 'worker-7' }),
    sampler: new AlwaysOnSampler(),
    spanProcessors: [collect],
  });
  return { provider, ended };
}

const REMOTE: SpanContext = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true,
  traceState: new TraceState('vendor=abc,other=x'),
};

/** A turn's shape (a remote parent, server, internal and client spans), plus every kind of attribute value, events, links and an error. */
function turn(provider: BasicTracerProvider): void {
  const tracer = provider.getTracer('troupe');
  const parent = trace.setSpanContext(ROOT_CONTEXT, REMOTE);
  const root = tracer.startSpan('POST /v1/chat/completions', { kind: SpanKind.SERVER, attributes: { 'troupe.tenant': 'acme' } }, parent);
  const inRoot = trace.setSpan(ROOT_CONTEXT, root);
  const agent = tracer.startSpan('invoke_agent a', { kind: SpanKind.INTERNAL }, inRoot);
  agent.setAttributes({
    'gen_ai.operation.name': 'invoke_agent', 'gen_ai.usage.input_tokens': 31, 'negative': -42, 'big': 2 ** 40 + 3, 'ratio': 0.25,
    'flag': true, 'off': false, 'reasons': ['stop', 'length'], 'numbers': [1, 2.5, -3], 'unicode': 'naïve 日本 ✓ emoji 🎉',
    'long': 'x'.repeat(300), 'long-unicode': 'é'.repeat(90), 'empty': '',
    // Short strings are written byte by byte while ASCII, by Buffer#write from the first other character.
    'ascii-42': 'a'.repeat(42), 'ascii-43': 'b'.repeat(43), 'ascii-edge': '\u0000 ~\u007f', 'ascii-then-latin1': 'abc\u0080',
    'short-cjk': '日'.repeat(42), 'short-latin1': 'ÿ'.repeat(42), 'clé': 'surrogates 🎉 at the end 🎉',
  });
  const call = tracer.startSpan('chat fake-model', {
    kind: SpanKind.CLIENT, attributes: { 'gen_ai.request.model': 'fake-model', 'gen_ai.request.temperature': 0.7 },
    links: [{ context: REMOTE, attributes: { why: 'retry of' } }],
  }, trace.setSpan(ROOT_CONTEXT, agent));
  call.addEvent('first token', { 'gen_ai.usage.output_tokens': 1 });
  call.addEvent('bare');
  call.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream said 503' });
  call.end();
  agent.setStatus({ code: SpanStatusCode.OK });
  agent.end();
  root.end();
  const lone: Span = tracer.startSpan('store.audit', { kind: SpanKind.INTERNAL });
  lone.end();
}

function encode(t: Test, spans: ReadableSpan[], initialBytes?: number): Buffer {
  const first = spans[0] as ReadableSpan;
  const batch = new ProtobufSpanBatch(first.resource, first.instrumentationScope, initialBytes);
  for (const s of spans) batch.add(s);
  t.equal(batch.count, spans.length);
  return batch.body();
}

t.test('a batch decodes to what the OpenTelemetry SDK\'s own protobuf serializer writes for the same spans', async (t) => {
  const { provider, ended } = recorder();
  turn(provider);
  t.equal(ended.length, 4);
  const ours = decodeTraceRequest(encode(t, ended));
  const sdk = decodeTraceRequest(ProtobufTraceSerializer.serializeRequest(ended) as Uint8Array);
  t.same(ours, sdk);
  // A spot check that the comparison compares something.
  const spans = (ours as { resourceSpans: { scopeSpans: { spans: { name: string; traceId: string; parentSpanId: string }[] }[] }[] }).resourceSpans[0]?.scopeSpans[0]?.spans ?? [];
  t.same(spans.map((s) => s.name), ['chat fake-model', 'invoke_agent a', 'POST /v1/chat/completions', 'store.audit']);
  t.equal(spans[2]?.parentSpanId, REMOTE.spanId);
  t.equal(spans[2]?.traceId, REMOTE.traceId);
});

t.test('a batch larger than its first buffer grows, and every span survives the growth', async (t) => {
  const { provider, ended } = recorder();
  for (let i = 0; i < 60; i++) turn(provider);
  const body = encode(t, ended, 64);
  t.ok(body.length > 20_000);
  t.same(decodeTraceRequest(body), decodeTraceRequest(ProtobufTraceSerializer.serializeRequest(ended) as Uint8Array));
});

t.test('a batch of one span, and the times of spans across the 2^32 s boundary of the nanosecond count, are exact', async (t) => {
  const { provider, ended } = recorder();
  const tracer = provider.getTracer('troupe');
  for (const startTime of [[0, 1], [4, 294_967_296], [1_800_000_000, 999_999_999], [18_446_744_073, 709_551_615]] as const) {
    tracer.startSpan('timed', { startTime: [startTime[0], startTime[1]] }).end([startTime[0], startTime[1]]);
  }
  for (const s of ended) t.same(decodeTraceRequest(encode(t, [s])), decodeTraceRequest(ProtobufTraceSerializer.serializeRequest([s]) as Uint8Array));
  const times = ended.map((s) => {
    const req = decodeTraceRequest(encode(t, [s])) as { resourceSpans: { scopeSpans: { spans: { startTimeUnixNano: string }[] }[] }[] };
    return req.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.startTimeUnixNano;
  });
  t.same(times, ['1', '4294967296', '1800000000999999999', '18446744073709551615']);
});

/** A collector on 127.0.0.1 that keeps each body it is sent and answers `status`. */
async function collectorAnswering(t: Test, status: number): Promise<{ url: string; bodies: Buffer[] }> {
  const bodies: Buffer[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks));
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, bodies };
}

function exporter(url: string): BoundedBatchProcessor {
  const post = otlpPost(url, 'application/x-protobuf', {}, 5_000);
  return new BoundedBatchProcessor((first) => new ProtobufSpanBatch(first.resource, first.instrumentationScope), post, {
    maxQueueSize: 100_000, maxExportBatchSize: 100_000, delayMs: 60_000,
  });
}

t.test('a batch the collector accepted lends its grown buffer to the next; the next body holds only its own spans', async (t) => {
  t.equal(spareBuffers(), 0);
  const { url, bodies } = await collectorAnswering(t, 200);
  const processor = exporter(url);
  const big = recorder();
  for (let i = 0; i < 200; i++) turn(big.provider);
  for (const s of big.ended) processor.onEnd(s);
  await processor.forceFlush();
  t.equal(processor.counts.exported, big.ended.length);
  t.equal(spareBuffers(), 1, 'the sent batch\'s buffer waits for the next batch');
  const small = recorder();
  turn(small.provider);
  for (const s of small.ended) processor.onEnd(s);
  t.equal(spareBuffers(), 0, 'the next batch took it');
  await processor.forceFlush();
  t.equal(bodies.length, 2);
  t.ok((bodies[0] as Buffer).length > 100_000, 'the first batch grew its buffer well past the initial 16 KB');
  t.same(decodeTraceRequest(bodies[0] as Buffer), decodeTraceRequest(ProtobufTraceSerializer.serializeRequest(big.ended) as Uint8Array));
  t.same(decodeTraceRequest(bodies[1] as Buffer), decodeTraceRequest(ProtobufTraceSerializer.serializeRequest(small.ended) as Uint8Array),
    'the reused buffer\'s body is exactly the second batch');
  t.equal(spareBuffers(), 1);
  await processor.shutdown();
});

t.test('a batch the collector refused keeps its buffer out of reuse', async (t) => {
  const { url, bodies } = await collectorAnswering(t, 500);
  const processor = exporter(url);
  const before = spareBuffers();
  const { provider, ended } = recorder();
  for (let i = 0; i < 10; i++) turn(provider);
  for (const s of ended) processor.onEnd(s);
  await processor.forceFlush();
  t.equal(bodies.length, 1);
  t.equal(processor.counts.exportFailed, ended.length);
  t.equal(spareBuffers(), Math.max(0, before - 1), 'the refused batch\'s buffer was not handed back (the batch had taken one spare, if there was one)');
  await processor.shutdown();
});
