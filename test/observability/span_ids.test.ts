import t from 'tap';
import { PooledIdGenerator } from '../../observability/span_ids.js';

t.test('trace and span ids are lower-case hex of W3C length, and differ', async (t) => {
  const ids = new PooledIdGenerator();
  const traces = new Set<string>();
  const spans = new Set<string>();
  const malformed: string[] = [];
  // Enough to refill the pool several times (2,048 bytes: 128 trace ids or 256 span ids each).
  for (let i = 0; i < 2_000; i++) {
    const trace = ids.generateTraceId();
    const span = ids.generateSpanId();
    if (!/^[0-9a-f]{32}$/.test(trace)) malformed.push(trace);
    if (!/^[0-9a-f]{16}$/.test(span)) malformed.push(span);
    traces.add(trace);
    spans.add(span);
  }
  t.same(malformed, [], 'every id is lower-case hex of its length');
  t.equal(traces.size, 2_000, 'no trace id repeats');
  t.equal(spans.size, 2_000, 'no span id repeats');
});

t.test('an all-zero id (invalid in W3C Trace Context) is never handed out', async (t) => {
  let fills = 0;
  // The first pool is all zeros, the next ones come from a counter: the zeros must be skipped whole.
  const ids = new PooledIdGenerator((buf) => {
    if (fills++ === 0) buf.fill(0);
    else for (let i = 0; i < buf.length; i++) buf[i] = (i % 255) + 1;
    return buf;
  });
  const span = ids.generateSpanId();
  const trace = ids.generateTraceId();
  t.not(span, '0'.repeat(16));
  t.not(trace, '0'.repeat(32));
  t.equal(span, '0102030405060708');
  t.equal(fills, 2, 'one refill after the zero pool');
});
