// The incremental SSE parser: events come out whole however the bytes are cut.

import t from 'tap';
import { MAX_SSE_LINE_CHARS, SseLineTooLong, SseParser, type SseEvent } from '../../providers/sse.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function parseAll(pieces: readonly Uint8Array[]): SseEvent[] {
  const parser = new SseParser();
  const out: SseEvent[] = [];
  for (const p of pieces) out.push(...parser.push(p));
  out.push(...parser.end());
  return out;
}

const STREAM = 'data: {"a":"Hà Nội 🌧"}\n\nevent: ping\ndata: 1\n\n: keep-alive\n\ndata: line one\ndata: line two\n\ndata: [DONE]\n\n';
const EXPECTED: SseEvent[] = [
  { event: null, data: '{"a":"Hà Nội 🌧"}' },
  { event: 'ping', data: '1' },
  { event: null, data: 'line one\nline two' },
  { event: null, data: '[DONE]' },
];

t.test('sse: a stream in one chunk gives its events, comments skipped, data lines joined', async (t) => {
  t.same(parseAll([utf8(STREAM)]), EXPECTED);
});

t.test('sse: cut at every byte (inside UTF-8 sequences too) gives the same events', async (t) => {
  const bytes = utf8(STREAM);
  for (let cut = 1; cut < bytes.length; cut++) {
    const got = parseAll([bytes.subarray(0, cut), bytes.subarray(cut)]);
    if (JSON.stringify(got) !== JSON.stringify(EXPECTED)) {
      t.same(got, EXPECTED, `cut at byte ${cut}`);
      return;
    }
  }
  t.same(parseAll([...bytes].map((b) => Uint8Array.of(b))), EXPECTED, 'one byte at a time');
});

t.test('sse: CRLF and lone CR end lines too, also when the pair is split across chunks', async (t) => {
  const crlf = STREAM.replaceAll('\n', '\r\n');
  t.same(parseAll([utf8(crlf)]), EXPECTED);
  const bytes = utf8(crlf);
  for (let cut = 1; cut < bytes.length; cut++) {
    const got = parseAll([bytes.subarray(0, cut), bytes.subarray(cut)]);
    if (JSON.stringify(got) !== JSON.stringify(EXPECTED)) {
      t.same(got, EXPECTED, `CRLF cut at byte ${cut}`);
      return;
    }
  }
  t.same(parseAll([utf8(STREAM.replaceAll('\n', '\r'))]), EXPECTED);
});

t.test('sse: an event without its closing blank line is not emitted at the end', async (t) => {
  t.same(parseAll([utf8('data: whole\n\ndata: half')]), [{ event: null, data: 'whole' }]);
});

t.test('sse: a field without a colon, or without the space, is read as the spec says', async (t) => {
  t.same(parseAll([utf8('data\n\ndata:x\n\n')]), [{ event: null, data: '' }, { event: null, data: 'x' }]);
});

t.test('sse: a line that never ends is refused past the limit instead of buffered', async (t) => {
  const parser = new SseParser();
  const piece = new Uint8Array(1024 * 1024).fill(120);
  t.throws(() => {
    for (let i = 0; i <= MAX_SSE_LINE_CHARS / piece.length; i++) parser.push(piece);
  }, SseLineTooLong);
});
