/**
 * Bytes <-> frames for both WebSocket protocols. Decoding is where untrusted
 * input first becomes data, so every check that does not need a principal
 * happens here: frame kind, UTF-8, nesting depth, envelope shape.
 */
import { Packr } from 'msgpackr';
import { TroupeError, type WireError } from './errors.js';
import { jsonDepthExceeds, scanMsgpack } from './depth_scan.js';

export type WireProtocol = 'json' | 'msgpack';
export const MSGPACK_SUBPROTOCOL = 'troupe.msgpack';
export const JSON_SUBPROTOCOL = 'troupe.json';

export type RequestId = string | number;

export interface RequestFrame {
  type: 'req';
  id: RequestId;
  method: string;
  params: Record<string, unknown>;
}

export type ResponseFrame =
  | { type: 'res'; id: RequestId | null; ok: true; payload: unknown }
  | { type: 'res'; id: RequestId | null; ok: false; error: WireError };

export interface EventFrame {
  type: 'event';
  event: string;
  payload: unknown;
  seq: number;
}

export type OutboundFrame = ResponseFrame | EventFrame;

export const MAX_ID_CHARS = 128;
export const MAX_METHOD_CHARS = 64;

// Plain maps both ways so any msgpack library can talk to us (no record extension).
const packr = new Packr({ useRecords: false, mapsAsObjects: true });
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A frame that could not become a request; `requestId` is echoed when it was readable. */
export class FrameError extends TroupeError {
  readonly requestId: RequestId | null;
  constructor(reason: string, message: string, requestId: RequestId | null, field?: string) {
    super('INVALID_REQUEST', message, { reason, field });
    this.requestId = requestId;
  }
}

function bad(reason: string, message: string, id: RequestId | null = null, field?: string): FrameError {
  return new FrameError(reason, message, id, field);
}

/** Decodes one WebSocket message into a plain value; throws FrameError. */
export function decodePayload(data: ArrayBuffer, isBinary: boolean, protocol: WireProtocol, maxDepth: number): unknown {
  const bytes = new Uint8Array(data);
  if (protocol === 'json') {
    if (isBinary) throw bad('binary_on_json', 'Binary frames are not accepted on the JSON protocol; negotiate troupe.msgpack');
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw bad('invalid_utf8', 'Text frame is not valid UTF-8');
    }
    if (jsonDepthExceeds(bytes, maxDepth)) throw bad('too_deep', `JSON nests deeper than ${maxDepth} levels`);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw bad('malformed_json', 'Frame is not valid JSON');
    }
  }
  if (!isBinary) throw bad('text_on_msgpack', 'Text frames are not accepted on troupe.msgpack; send binary msgpack');
  const scan = scanMsgpack(bytes, maxDepth);
  if (scan === 'too_deep') throw bad('too_deep', `msgpack nests deeper than ${maxDepth} levels`);
  if (scan === 'malformed') throw bad('malformed_msgpack', 'Frame is not a single valid msgpack value');
  try {
    return packr.unpack(bytes) as unknown;
  } catch {
    throw bad('malformed_msgpack', 'Frame is not a single valid msgpack value');
  }
}

function readId(raw: unknown): RequestId | null {
  if (typeof raw === 'string' && raw.length > 0 && raw.length <= MAX_ID_CHARS) return raw;
  if (typeof raw === 'number' && Number.isSafeInteger(raw)) return raw;
  return null;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Date);
}

/** Checks the request envelope; params are checked later against the method's schema. */
export function toRequestFrame(value: unknown): RequestFrame {
  if (!isPlainObject(value)) throw bad('not_an_object', 'A frame must be an object');
  const id = readId(value.id);
  if (id === null) {
    throw bad('invalid_id', `"id" must be a non-empty string of at most ${MAX_ID_CHARS} characters or a safe integer`, null, 'id');
  }
  if (value.type !== 'req') throw bad('invalid_type', '"type" must be "req"', id, 'type');
  const method = value.method;
  if (typeof method !== 'string' || method.length === 0 || method.length > MAX_METHOD_CHARS) {
    throw bad('invalid_method', '"method" must be a non-empty string', id, 'method');
  }
  const params = value.params ?? {};
  if (!isPlainObject(params)) throw bad('invalid_params', '"params" must be an object', id, 'params');
  return { type: 'req', id, method, params };
}

export function encodeFrame(frame: OutboundFrame, protocol: WireProtocol): string | Buffer {
  return protocol === 'json' ? JSON.stringify(frame) : packr.pack(frame);
}

/** Picks our subprotocol from the client's offer; '' means "answer with none" (JSON). */
export function negotiateSubprotocol(offer: string): { protocol: WireProtocol; header: string } {
  const offered = offer.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (offered.includes(MSGPACK_SUBPROTOCOL)) return { protocol: 'msgpack', header: MSGPACK_SUBPROTOCOL };
  if (offered.includes(JSON_SUBPROTOCOL)) return { protocol: 'json', header: JSON_SUBPROTOCOL };
  return { protocol: 'json', header: '' };
}
