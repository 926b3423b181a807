/**
 * OTLP/protobuf for the spans of one thread, written as they end. Each span
 * is encoded once, at its end, into the batch's buffer, so the span object
 * is garbage at once instead of waiting (and being promoted by the GC) in a
 * queue until its batch goes out. The request's header is written in front
 * of the spans only when the batch is sent, into room kept for it:
 *
 *     buffer: [ …room… | ExportTraceServiceRequest header | span | span | … ]
 *                       └─ body() starts here ───────────────────────────────┘
 *
 *     ExportTraceServiceRequest { 1: ResourceSpans { 1: Resource, 2: ScopeSpans { 1: scope, 2: span, 2: span, … } } }
 *
 * A batch holds one resource and one instrumentation scope (a thread's
 * provider has one of each); a span of another starts a new batch.
 * Field numbers: opentelemetry-proto, trace/v1/trace.proto and
 * common/v1/common.proto. test/observability/otlp_protobuf.test.ts checks the
 * output, decoded, against the OpenTelemetry SDK's own serializer.
 */
import type { Attributes, AttributeValue, HrTime, SpanContext } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

const LEN = 2;
const VARINT = 0;
const I64 = 1;
const I32 = 5;
/** Span.flags: the low byte is the W3C trace flags; these say whether the parent was remote. */
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;
const TWO_32 = 0x1_0000_0000;
const EMPTY = Buffer.alloc(0);

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX[i.toString(16).charCodeAt(0)] = i;
  HEX[i.toString(16).toUpperCase().charCodeAt(0)] = i;
}

/** A growable buffer with the protobuf wire primitives the span shape needs. */
class Writer {
  buf: Buffer;
  pos: number;

  constructor(size: number, start = 0, buf?: Buffer) {
    this.buf = buf !== undefined && buf.length >= size ? buf : Buffer.allocUnsafe(size);
    this.pos = start;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  /** A non-negative integer up to 2^53, or a negative one (as int64: ten bytes, two's complement). */
  varint(v: number): void {
    this.ensure(10);
    const b = this.buf;
    if (v < 0) {
      let n = BigInt.asUintN(64, BigInt(v));
      while (n >= 0x80n) {
        b[this.pos++] = Number(n & 0x7fn) | 0x80;
        n >>= 7n;
      }
      b[this.pos++] = Number(n);
      return;
    }
    while (v >= 0x80) {
      b[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[this.pos++] = v;
  }

  fixed32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  /** An HrTime ([seconds, nanoseconds] since the epoch) as fixed64 nanoseconds, exactly (the product passes 2^53). */
  hrTime(t: HrTime): void {
    const [s, ns] = t;
    const high = Math.floor(s / 0x1_0000) * 1e9; // seconds above the low 16 bits, in ns, still to be shifted left 16 bits
    const low = (s % 0x1_0000) * 1e9 + ns; // < 2^53
    let lo = (high % 0x1_0000) * 0x1_0000 + (low % TWO_32);
    const carry = Math.floor(lo / TWO_32);
    lo %= TWO_32;
    const hi = Math.floor(high / 0x1_0000) + Math.floor(low / TWO_32) + carry;
    this.ensure(8);
    this.buf.writeUInt32LE(lo, this.pos);
    this.buf.writeUInt32LE(hi >>> 0, this.pos + 4);
    this.pos += 8;
  }

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  string(s: string): void {
    // Short strings (every name and most values here): the length fits one byte whatever the UTF-8.
    if (s.length < 43) {
      this.ensure(1 + s.length * 3);
      const b = this.buf;
      const at = this.pos + 1;
      // ASCII (every key and name Troupe sets) byte by byte: a call into Buffer#write costs more than
      // the copy for strings this short. The first other character hands the whole string to it.
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        b[at + i] = c;
      }
      const n = i === s.length ? i : b.write(s, at, 'utf8');
      b[this.pos] = n;
      this.pos = at + n;
      return;
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, n, 'utf8');
  }

  /** A trace or span id (hex) as its bytes. */
  hexId(hex: string): void {
    const n = hex.length >>> 1;
    this.ensure(1 + n);
    const b = this.buf;
    b[this.pos++] = n;
    for (let i = 0; i < n; i++) b[this.pos++] = ((HEX[hex.charCodeAt(2 * i)] ?? 0) << 4) | (HEX[hex.charCodeAt(2 * i + 1)] ?? 0);
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Opens a length-delimited field: one byte is kept for its length (most are short); close() moves the body if it needs more. */
  open(field: number): number {
    this.tag(field, LEN);
    this.ensure(1);
    return this.pos++;
  }

  close(at: number): void {
    const len = this.pos - at - 1;
    if (len < 0x80) {
      this.buf[at] = len;
      return;
    }
    const size = varintSize(len);
    this.ensure(size - 1);
    this.buf.copyWithin(at + size, at + 1, this.pos);
    this.pos += size - 1;
    const end = this.pos;
    this.pos = at;
    this.varint(len);
    this.pos = end;
  }
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

/** AnyValue: string 1, bool 2, int 3, double 4, array 5. */
function anyValue(w: Writer, v: AttributeValue | null | undefined): void {
  switch (typeof v) {
    case 'string':
      w.tag(1, LEN);
      w.string(v);
      return;
    case 'boolean':
      w.tag(2, VARINT);
      w.varint(v ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 63) {
        w.tag(3, VARINT);
        w.varint(v);
      } else {
        w.tag(4, I64);
        w.double(v);
      }
      return;
    default:
      if (Array.isArray(v)) {
        const at = w.open(5);
        for (const item of v as readonly (string | number | boolean | null | undefined)[]) {
          const item_ = w.open(1);
          anyValue(w, item);
          w.close(item_);
        }
        w.close(at);
      }
  }
}

/** Repeated KeyValue { 1: key, 2: AnyValue } as `field`. */
function attributes(w: Writer, field: number, attrs: Attributes | undefined): void {
  if (attrs === undefined) return;
  for (const key in attrs) {
    const kv = w.open(field);
    w.tag(1, LEN);
    w.string(key);
    const value = w.open(2);
    anyValue(w, attrs[key]);
    w.close(value);
    w.close(kv);
  }
}

function flags(context: SpanContext, isRemote: boolean | undefined): number {
  return (context.traceFlags & 0xff) | HAS_IS_REMOTE | (isRemote === true ? IS_REMOTE : 0);
}

/** One Span message's fields (1–16). */
function span(w: Writer, s: ReadableSpan): void {
  const ctx = s.spanContext();
  w.tag(1, LEN);
  w.hexId(ctx.traceId);
  w.tag(2, LEN);
  w.hexId(ctx.spanId);
  const state = ctx.traceState?.serialize();
  if (state) {
    w.tag(3, LEN);
    w.string(state);
  }
  const parent = s.parentSpanContext;
  if (parent?.spanId) {
    w.tag(4, LEN);
    w.hexId(parent.spanId);
  }
  w.tag(5, LEN);
  w.string(s.name);
  w.tag(6, VARINT);
  w.varint(s.kind + 1); // the proto's SPAN_KIND_UNSPECIFIED is 0
  w.tag(7, I64);
  w.hrTime(s.startTime);
  w.tag(8, I64);
  w.hrTime(s.endTime);
  attributes(w, 9, s.attributes);
  if (s.droppedAttributesCount > 0) {
    w.tag(10, VARINT);
    w.varint(s.droppedAttributesCount);
  }
  for (const e of s.events) {
    const at = w.open(11);
    w.tag(1, I64);
    w.hrTime(e.time);
    w.tag(2, LEN);
    w.string(e.name);
    attributes(w, 3, e.attributes);
    if ((e.droppedAttributesCount ?? 0) > 0) {
      w.tag(4, VARINT);
      w.varint(e.droppedAttributesCount ?? 0);
    }
    w.close(at);
  }
  if (s.droppedEventsCount > 0) {
    w.tag(12, VARINT);
    w.varint(s.droppedEventsCount);
  }
  for (const l of s.links) {
    const at = w.open(13);
    w.tag(1, LEN);
    w.hexId(l.context.traceId);
    w.tag(2, LEN);
    w.hexId(l.context.spanId);
    const linkState = l.context.traceState?.serialize();
    if (linkState) {
      w.tag(3, LEN);
      w.string(linkState);
    }
    attributes(w, 4, l.attributes);
    if ((l.droppedAttributesCount ?? 0) > 0) {
      w.tag(5, VARINT);
      w.varint(l.droppedAttributesCount ?? 0);
    }
    w.tag(6, I32);
    w.fixed32(flags(l.context, l.context.isRemote));
    w.close(at);
  }
  if (s.droppedLinksCount > 0) {
    w.tag(14, VARINT);
    w.varint(s.droppedLinksCount);
  }
  const status = w.open(15);
  if (s.status.message) {
    w.tag(2, LEN);
    w.string(s.status.message);
  }
  if (s.status.code !== 0) {
    w.tag(3, VARINT);
    w.varint(s.status.code);
  }
  w.close(status);
  w.tag(16, I32);
  w.fixed32(flags(ctx, parent?.isRemote));
}

/** ResourceSpans' field 1 (Resource { 1: attributes }) and ScopeSpans' field 1 (InstrumentationScope { 1: name, 2: version }), tags included. */
interface Header {
  resource: Buffer;
  scope: Buffer;
}

function encodeHeader(resource: Resource, scope: InstrumentationScope): Header {
  const r = new Writer(256);
  const at = r.open(1);
  attributes(r, 1, resource.attributes);
  r.close(at);
  const s = new Writer(64);
  const sc = s.open(1);
  s.tag(1, LEN);
  s.string(scope.name);
  if (scope.version) {
    s.tag(2, LEN);
    s.string(scope.version);
  }
  s.close(sc);
  return { resource: Buffer.from(r.buf.subarray(0, r.pos)), scope: Buffer.from(s.buf.subarray(0, s.pos)) };
}

/** The resource and scope a batch's spans share, encoded once per provider. */
const headers = new WeakMap<Resource, Map<InstrumentationScope, Header>>();
function headerFor(resource: Resource, scope: InstrumentationScope): Header {
  let byScope = headers.get(resource);
  if (byScope === undefined) headers.set(resource, (byScope = new Map()));
  let h = byScope.get(scope);
  if (h === undefined) byScope.set(scope, (h = encodeHeader(resource, scope)));
  return h;
}

/** Header bytes besides the resource and scope: two tags and two lengths (≤ 10 bytes each). */
const ROOM_EXTRA = 2 + 10 + 10;

/**
 * Buffers of batches that were sent and answered, for the next batches of
 * this thread. A batch's buffer grows by doubling to the size of a whole
 * batch (~150 KB for 512 spans); allocating those afresh for every batch
 * made each thread churn through memory outside the JavaScript heap, which
 * V8 accounts and sweeps on its helper threads. At most MAX_SPARE, each at
 * most MAX_SPARE_BYTES, are kept.
 */
const spare: Buffer[] = [];
const MAX_SPARE = 2;
const MAX_SPARE_BYTES = 1 << 20;

/** How many sent buffers wait for reuse on this thread (tests). */
export function spareBuffers(): number {
  return spare.length;
}

/** One batch of spans as an OTLP/protobuf ExportTraceServiceRequest in the making. */
export class ProtobufSpanBatch {
  count = 0;
  private readonly w: Writer;
  private readonly room: number;

  constructor(
    readonly resource: Resource,
    readonly scope: InstrumentationScope,
    initialBytes = 16_384,
  ) {
    const h = headerFor(resource, scope);
    this.room = h.resource.length + h.scope.length + ROOM_EXTRA;
    this.w = new Writer(this.room + initialBytes, this.room, spare.pop());
  }

  /**
   * The body was sent and answered: its buffer may hold the next batch. Only
   * then (a request that failed or timed out may still be referenced by its
   * socket); the batch and its body must not be used afterwards.
   */
  recycle(): void {
    const buf = this.w.buf;
    this.w.buf = EMPTY;
    this.w.pos = 0;
    if (buf !== EMPTY && spare.length < MAX_SPARE && buf.length <= MAX_SPARE_BYTES) spare.push(buf);
  }

  /** Whether `s` can join this batch (same resource and scope). */
  fits(s: ReadableSpan): boolean {
    return s.resource === this.resource && s.instrumentationScope === this.scope;
  }

  add(s: ReadableSpan): void {
    const at = this.w.open(2);
    span(this.w, s);
    this.w.close(at);
    this.count++;
  }

  /** Bytes of encoded spans so far. */
  get size(): number {
    return this.w.pos - this.room;
  }

  /** The whole request (a view of the batch's buffer: the batch is done after this). */
  body(): Buffer {
    const h = headerFor(this.resource, this.scope);
    const scopeSpans = h.scope.length + this.size;
    const resourceSpans = h.resource.length + 1 + varintSize(scopeSpans) + scopeSpans;
    const w = this.w;
    const end = w.pos;
    const start = this.room - (1 + varintSize(resourceSpans) + resourceSpans - this.size);
    w.pos = start;
    w.tag(1, LEN);
    w.varint(resourceSpans);
    w.raw(h.resource);
    w.tag(2, LEN);
    w.varint(scopeSpans);
    w.raw(h.scope);
    w.pos = end;
    return w.buf.subarray(start, end);
  }
}
