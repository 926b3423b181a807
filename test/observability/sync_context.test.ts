import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, trace } from '@opentelemetry/api';
import t from 'tap';
import {
  EMPTY_CONTEXT, SpanKind, contextFromTraceparent, currentTraceparent, endSpan, inSpan, startSpan, startTracing, stopTracing, synchronousContextOnThisThread,
} from '../../observability/tracing.js';

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

t.test('synchronous context (the store worker): a context holds for the call it wraps, not across its awaits', async (t) => {
  // A collector that takes every export: this test reads the contexts, not the spans.
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  await startTracing({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, protocol: 'http/protobuf', serviceName: 'troupe-test',
    sampler: 'parentbased_always_on', samplerArg: 1, headers: {}, timeoutMs: 1_000, maxQueueSize: 100, maxExportBatchSize: 10, delayMs: 10,
  });
  t.teardown(stopTracing);

  synchronousContextOnThisThread();
  const carried = contextFromTraceparent(PARENT);
  let afterAwait: unknown = 'not run';
  let pending: Promise<void> = Promise.resolve();
  const spanId = context.with(carried, () => {
    // A message's handler: its span starts under the carried parent, and what it sends carries that span.
    const span = startSpan('store.append_message', SpanKind.INTERNAL, { 'troupe.tenant': 'acme' });
    t.ok(span, 'tracing is on');
    t.equal(span?.spanContext().traceId, '4bf92f3577b34da6a3ce929d0e0e4736', 'the span joins the carried trace');
    const inner = inSpan(span, () => currentTraceparent());
    t.equal(inner, `00-4bf92f3577b34da6a3ce929d0e0e4736-${span?.spanContext().spanId}-01`, 'a message sent inside the span carries it');
    t.equal(context.active(), carried, 'the handler\'s context is current again after the nested call');
    pending = (async () => {
      await null;
      afterAwait = context.active();
    })();
    endSpan(span);
    return span?.spanContext().spanId;
  });
  t.equal(context.active(), EMPTY_CONTEXT, 'outside the handler, no context is current');
  await pending;
  t.equal(afterAwait, EMPTY_CONTEXT, 'a continuation after an await does not inherit the handler\'s context');
  t.equal(trace.getSpan(context.active()), undefined, 'no span is current outside');
  t.ok(spanId, 'the span had an id');

  let threw = false;
  try {
    context.with(carried, () => {
      throw new Error('boom');
    });
  } catch {
    threw = true;
  }
  t.ok(threw, 'the handler\'s error reaches the caller');
  t.equal(context.active(), EMPTY_CONTEXT, 'and the previous context is current again');
});

t.test('a context is a chain of links: a value set shows in that context and its descendants only', (t) => {
  const a = Symbol('a');
  const b = Symbol('b');
  const one = EMPTY_CONTEXT.setValue(a, 1);
  const two = one.setValue(b, 2);
  const sibling = one.setValue(a, 3);
  t.equal(EMPTY_CONTEXT.getValue(a), undefined, 'the empty context holds nothing');
  t.same([two.getValue(a), two.getValue(b)], [1, 2], 'a descendant sees its ancestors\' values');
  t.same([sibling.getValue(a), sibling.getValue(b)], [3, undefined], 'a value set again shadows the older one; a sibling\'s is not seen');
  const removed = two.deleteValue(a);
  t.same([removed.getValue(a), removed.getValue(b)], [undefined, 2], 'a deleted key reads as unset, the others stay');
  t.same([one.getValue(a), two.getValue(a)], [1, 1], 'setting or deleting never changes the context it started from');
  t.end();
});
