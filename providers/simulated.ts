// A provider with no upstream: deterministic text derived from a seed and the
// last user message, with scripted pacing, tool calls and failures. It powers
// `npm start` without keys, the demos and the benchmarks, so the hot path is
// kept lean: with no latency there are no timers at all, and tokens go out in
// batches of `batchTokens` per text event.

import { abortedError, ProviderError, type ProviderErrorKind } from './errors.js';
import { textOf } from './content.js';
import type { ChatMessage, ChatRequest, Provider, StopReason, StreamEvent } from './types.js';

export interface SimulatedToolCall {
  readonly name: string;
  readonly arguments: { readonly [key: string]: unknown };
}

export interface SimulatedFailure {
  readonly kind: ProviderErrorKind;
  /** Tokens streamed before the failure. Default 0: fail before any output. */
  readonly afterTokens?: number;
  readonly retryAfterMs?: number;
  readonly message?: string;
}

export interface SimulatedOptions {
  /** Output tokens (words) per reply. Default 32. */
  readonly tokens?: number;
  /** Delay before each token after the first. Default 0. */
  readonly latencyMs?: number;
  /** Delay before the first token. Default 0. */
  readonly firstTokenMs?: number;
  /** Tokens per text event when there is no latency. Default 16. */
  readonly batchTokens?: number;
  readonly seed?: number;
  /** Called after the text, in order; the stop reason becomes 'tool_calls'. */
  readonly toolCalls?: readonly SimulatedToolCall[];
  readonly failWith?: SimulatedFailure;
}

/** Upper bound on tokens per reply, whatever the options say. */
export const MAX_SIMULATED_TOKENS = 1_000_000;
const PROVIDER = 'simulated';

const WORDS = (
  'the actor answers each message in turn while the gateway keeps sessions apart and streams ' +
  'tokens back to every client quickly with supervision restarts metrics traces tools memory ' +
  'agents plan act observe reply retry budget cache latency window context summary'
).split(' ');

export class SimulatedProvider implements Provider {
  readonly kind = PROVIDER;
  private readonly options: SimulatedOptions;
  private readonly tokens: number;
  private readonly batch: number;

  constructor(options: SimulatedOptions = {}) {
    this.options = options;
    this.tokens = clampInt(options.tokens ?? 32, 0, MAX_SIMULATED_TOKENS);
    this.batch = clampInt(options.batchTokens ?? 16, 1, 4096);
  }

  async *stream(req: ChatRequest): AsyncIterable<StreamEvent> {
    const { signal } = req;
    const { latencyMs = 0, firstTokenMs = 0, failWith, toolCalls } = this.options;
    const limit = req.maxTokens !== undefined ? Math.min(this.tokens, Math.max(0, req.maxTokens)) : this.tokens;
    const failAt = failWith ? Math.min(failWith.afterTokens ?? 0, limit) : -1;
    const random = xorshift(hash(`${this.options.seed ?? 0}\u0000${lastUserText(req.messages)}`));

    if (signal?.aborted) throw abortedError(PROVIDER);
    if (firstTokenMs > 0) await sleep(firstTokenMs, signal);

    let sent = 0;
    while (sent < limit) {
      if (sent === failAt) throw failure(failWith as SimulatedFailure);
      if (signal?.aborted) throw abortedError(PROVIDER);
      // With latency one token per event; without, a batch up to the failure point.
      let end = latencyMs > 0 ? sent + 1 : Math.min(sent + this.batch, limit);
      if (failAt > sent && failAt < end) end = failAt;
      let delta = '';
      for (let i = sent; i < end; i++) delta += (i === 0 ? '' : ' ') + WORDS[random() % WORDS.length];
      if (latencyMs > 0 && sent > 0) await sleep(latencyMs, signal);
      sent = end;
      yield { type: 'text', delta };
    }
    if (sent === failAt) throw failure(failWith as SimulatedFailure);
    if (signal?.aborted) throw abortedError(PROVIDER);

    const calls = toolCalls ?? [];
    for (let index = 0; index < calls.length; index++) {
      const call = calls[index];
      yield { type: 'tool_call', index, id: `sim_call_${index}`, name: call.name, argumentsDelta: JSON.stringify(call.arguments) };
    }
    yield { type: 'usage', inputTokens: countWords(req.messages), outputTokens: sent + calls.length };
    yield { type: 'stop', reason: stopReason(calls.length > 0, limit < this.tokens) };
  }
}

function stopReason(calledTools: boolean, truncated: boolean): StopReason {
  if (calledTools) return 'tool_calls';
  return truncated ? 'length' : 'stop';
}

function failure(spec: SimulatedFailure): ProviderError {
  return new ProviderError(spec.kind, PROVIDER, spec.message ?? `simulated ${spec.kind}`, {
    ...(spec.retryAfterMs === undefined ? {} : { retryAfterMs: spec.retryAfterMs }),
  });
}

function lastUserText(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role === 'user') return textOf(messages[i].content);
  }
  return '';
}

/** A rough prompt size: whitespace-separated words across all messages. */
function countWords(messages: readonly ChatMessage[]): number {
  let count = 0;
  for (const message of messages) {
    const text = textOf(message.content);
    let inWord = false;
    for (let i = 0; i < text.length; i++) {
      const space = text.charCodeAt(i) <= 32;
      if (!space && !inWord) count++;
      inWord = !space;
    }
  }
  return count;
}

function hash(text: string): number {
  // FNV-1a: stable across runs and platforms, which is all the seed needs.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0 || 1;
}

function xorshift(seed: number): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}

function clampInt(value: number, min: number, max: number): number {
  if (!Number.isFinite(value)) return min;
  return Math.min(max, Math.max(min, Math.floor(value)));
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(PROVIDER));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortedError(PROVIDER));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
