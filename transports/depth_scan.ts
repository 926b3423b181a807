/**
 * Nesting-depth checks that run BEFORE a parser sees untrusted bytes. Both
 * parsers recurse per nesting level, so a 500 KiB frame of `[[[[…` would reach
 * hundreds of thousands of frames deep. These scans are loops over the bytes
 * with O(1) state (JSON) or an explicit stack bounded by `maxDepth` (msgpack),
 * so they cannot overflow the call stack themselves.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Deepest `[`/`{` nesting of JSON text given as UTF-8 bytes, stopping early once
 * `limit` is exceeded. Brackets inside strings do not count. Works on raw bytes
 * because every structural character is ASCII and UTF-8 continuation bytes are
 * never ASCII.
 */
export function jsonDepthExceeds(bytes: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

export type MsgpackScan = 'ok' | 'too_deep' | 'malformed';

/** Bytes that follow a msgpack type byte before the next value, or -1 if variable. */
function fixedSize(t: number): number {
  if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) return 0;
  switch (t) {
    case 0xcc: case 0xd0: return 1;
    case 0xcd: case 0xd1: return 2;
    case 0xca: case 0xce: case 0xd2: return 4;
    case 0xcb: case 0xcf: case 0xd3: return 8;
    case 0xd4: return 2; // fixext 1: type byte + 1
    case 0xd5: return 3;
    case 0xd6: return 5;
    case 0xd7: return 9;
    case 0xd8: return 17;
    default: return -1;
  }
}

function readLength(view: DataView, pos: number, width: number): number {
  if (width === 1) return view.getUint8(pos);
  if (width === 2) return view.getUint16(pos);
  return view.getUint32(pos);
}

/**
 * Walks one msgpack value without building it: checks that it is well formed,
 * consumes the buffer exactly and nests no deeper than `maxDepth`. Declared
 * lengths are checked against the bytes actually present, so a header claiming
 * 4 billion elements is rejected before a decoder could allocate for it.
 */
export function scanMsgpack(bytes: Uint8Array, maxDepth: number): MsgpackScan {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;
  // remaining[i] = values still expected in the container at depth i+1.
  const remaining: number[] = [];
  let pending = 1; // values still expected at the current level
  let pos = 0;
  while (true) {
    while (pending === 0) {
      if (remaining.length === 0) return pos === end ? 'ok' : 'malformed';
      pending = remaining.pop() as number;
    }
    if (pos >= end) return 'malformed';
    const t = bytes[pos++];
    pending--;
    const fixed = fixedSize(t);
    let skip = 0;
    let children = 0;
    if (fixed >= 0) {
      skip = fixed;
    } else if (t >= 0x80 && t <= 0x8f) {
      children = (t & 0x0f) * 2;
    } else if (t >= 0x90 && t <= 0x9f) {
      children = t & 0x0f;
    } else if (t >= 0xa0 && t <= 0xbf) {
      skip = t & 0x1f;
    } else {
      // Variable-length forms: width of the length field, and what it counts.
      let width: number;
      let kind: 'bytes' | 'ext' | 'array' | 'map';
      switch (t) {
        case 0xc4: case 0xd9: width = 1; kind = 'bytes'; break;
        case 0xc5: case 0xda: width = 2; kind = 'bytes'; break;
        case 0xc6: case 0xdb: width = 4; kind = 'bytes'; break;
        case 0xc7: width = 1; kind = 'ext'; break;
        case 0xc8: width = 2; kind = 'ext'; break;
        case 0xc9: width = 4; kind = 'ext'; break;
        case 0xdc: width = 2; kind = 'array'; break;
        case 0xdd: width = 4; kind = 'array'; break;
        case 0xde: width = 2; kind = 'map'; break;
        case 0xdf: width = 4; kind = 'map'; break;
        default: return 'malformed'; // 0xc1 is never used
      }
      if (pos + width > end) return 'malformed';
      const n = readLength(view, pos, width);
      pos += width;
      if (kind === 'bytes') skip = n;
      else if (kind === 'ext') skip = n + 1;
      else children = kind === 'array' ? n : n * 2;
    }
    if (skip > end - pos) return 'malformed';
    pos += skip;
    if (children > 0) {
      // Every child needs at least one byte: reject impossible counts up front.
      if (children > end - pos) return 'malformed';
      if (remaining.length + 1 > maxDepth) return 'too_deep';
      remaining.push(pending);
      pending = children;
    } else if (isContainerType(t)) {
      // An empty container still counts as one level of nesting.
      if (remaining.length + 1 > maxDepth) return 'too_deep';
    }
  }
}

function isContainerType(t: number): boolean {
  return (t >= 0x80 && t <= 0x9f) || t === 0xdc || t === 0xdd || t === 0xde || t === 0xdf;
}
