// The script format shared by every fake upstream. A test queues replies; each
// incoming request takes the next one (or the fake's default reply when the
// queue is empty) and the fake renders it in its own wire protocol.

export interface ScriptedToolCall {
  readonly id?: string;
  readonly name: string;
  /** The arguments object; the fake serializes it. */
  readonly arguments: { readonly [key: string]: unknown };
  /** Into how many pieces to split the JSON text where the protocol streams it. */
  readonly argumentChunks?: number;
}

export interface ScriptedUsage {
  readonly input: number;
  readonly output: number;
  readonly cacheRead?: number;
  readonly cacheWrite?: number;
}

export interface ScriptedReply {
  /** Reasoning streamed before the answer, where the protocol has a place for it. */
  readonly thinking?: string;
  readonly text?: string;
  /** Explicit text pieces; default: `text` split after each word. */
  readonly chunks?: readonly string[];
  readonly toolCalls?: readonly ScriptedToolCall[];
  readonly usage?: ScriptedUsage;
  /** A non-2xx status answers with that protocol's error body instead of a stream. */
  readonly status?: number;
  readonly errorMessage?: string;
  /** Sent verbatim as the Retry-After header (seconds or HTTP date). */
  readonly retryAfter?: string;
  /** Stop after writing this many frames, without the terminal marker. */
  readonly cutAfterChunks?: number;
  /** 'end' closes the response cleanly; 'destroy' resets the socket. */
  readonly cutMode?: 'end' | 'destroy';
  readonly delayMsPerChunk?: number;
  /** Written after the first frame: the rest waits until this settles (a run held in flight). */
  readonly holdAfterFirst?: Promise<unknown>;
  /**
   * After this many frames the upstream reports an error inside the open
   * stream (where the protocol has a way to) and ends it.
   */
  readonly streamErrorAfterChunks?: number;
  /** The vendor error type for that in-stream error, e.g. 'overloaded_error'. */
  readonly streamErrorType?: string;
  /** Overrides the protocol's finish marker ('length' for a truncated answer). */
  readonly finish?: 'stop' | 'length';
}

export const DEFAULT_REPLY: ScriptedReply = { text: 'Hello from the fake upstream.' };

/** The frames with an in-stream error frame in place of the rest, when scripted. */
export function withStreamError(frames: string[], reply: ScriptedReply, errorFrame: (type: string, message: string) => string): string[] {
  const at = reply.streamErrorAfterChunks;
  if (at === undefined) return frames;
  const message = reply.errorMessage ?? 'scripted stream error';
  return [...frames.slice(0, at), errorFrame(reply.streamErrorType ?? 'api_error', message)];
}

export function textChunks(reply: ScriptedReply): string[] {
  if (reply.chunks) return [...reply.chunks];
  if (!reply.text) return [];
  return reply.text.match(/\S+\s*|\s+/g) ?? [reply.text];
}

/** The scripted usage, or one derived from the reply so tests can predict it. */
export function usageOf(reply: ScriptedReply): ScriptedUsage {
  return reply.usage ?? { input: 7, output: textChunks(reply).length + (reply.toolCalls?.length ?? 0) };
}

export function argumentPieces(call: ScriptedToolCall): string[] {
  const json = JSON.stringify(call.arguments);
  const n = Math.max(1, Math.min(call.argumentChunks ?? 3, json.length));
  const size = Math.ceil(json.length / n);
  const pieces: string[] = [];
  for (let i = 0; i < json.length; i += size) pieces.push(json.slice(i, i + size));
  return pieces;
}

export function toolCallId(call: ScriptedToolCall, index: number, prefix: string): string {
  return call.id ?? `${prefix}${index}`;
}
