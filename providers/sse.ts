// An incremental Server-Sent Events parser (the WHATWG event-stream format).
// Bytes go in as they arrive; whole events come out. Only the unfinished last
// line is carried to the next chunk, so a long stream costs time in proportion
// to its length, never to the square of it (no re-scanning of a growing buffer):
//
//   chunk 1: "data: {\"a\"" ─────────────► carry = "data: {\"a\""
//   chunk 2: ":1}\n\ndata: [DO" ──► line "data: {\"a\":1}" ─ blank ─► event
//                                          carry = "data: [DO"
//
// UTF-8 split across chunks is kept whole by a streaming TextDecoder.

export interface SseEvent {
  /** The `event:` field, or null when the event had none (a plain `message`). */
  readonly event: string | null;
  /** The `data:` lines joined with "\n". */
  readonly data: string;
}

/** A line longer than this (no newline in sight) is refused rather than buffered without end. */
export const MAX_SSE_LINE_CHARS = 16 * 1024 * 1024;

export class SseLineTooLong extends Error {
  override readonly name = 'SseLineTooLong';
}

export class SseParser {
  private readonly decoder = new TextDecoder();
  private carry = '';
  /** The previous chunk ended in "\r": a "\n" starting the next one belongs to it. */
  private afterCR = false;
  private event: string | null = null;
  private data: string[] = [];

  /** Feeds one chunk; returns the events it completed (often none or one). */
  push(chunk: Uint8Array): SseEvent[] {
    return this.lines(this.decoder.decode(chunk, { stream: true }));
  }

  /** The stream ended: a last line without its newline still counts, an event without its blank line does not. */
  end(): SseEvent[] {
    const rest = this.decoder.decode();
    const out = this.lines(rest);
    if (this.carry !== '') {
      this.field(this.carry, out);
      this.carry = '';
    }
    return out;
  }

  private lines(text: string): SseEvent[] {
    const out: SseEvent[] = [];
    let start = 0;
    if (this.afterCR && text.charCodeAt(0) === 10) start = 1;
    this.afterCR = false;
    const n = text.length;
    for (let i = start; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = start === 0 && this.carry !== '' ? this.carry + text.slice(0, i) : text.slice(start, i);
      if (start === 0) this.carry = '';
      this.field(line, out);
      if (c === 13) {
        if (i + 1 < n) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else {
          this.afterCR = true;
        }
      }
      start = i + 1;
    }
    if (start < n) {
      this.carry = start === 0 ? this.carry + text : text.slice(start);
      if (this.carry.length > MAX_SSE_LINE_CHARS) throw new SseLineTooLong(`an event-stream line exceeded ${MAX_SSE_LINE_CHARS} characters`);
    }
    return out;
  }

  private field(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0) out.push({ event: this.event, data: this.data.length === 1 ? this.data[0] : this.data.join('\n') });
      this.event = null;
      this.data = [];
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ":" a comment (keep-alive)
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (name === 'data') this.data.push(value);
    else if (name === 'event') this.event = value;
    // `id` and `retry` concern reconnecting EventSource clients, not one request.
  }
}
