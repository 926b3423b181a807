// The OpenAI Chat Completions adapter on the lean transport (lean_http.ts):
// a kept-alive undici pool and the incremental SSE parser (sse.ts), with the
// same wire translation as the SDK adapter (openai_wire.ts) and the same
// errors, down to their messages, so either transport can stand for the other.
// The `openai` SDK costs ~0.8 ms of CPU per streamed completion on the
// benchmark machine (bench/RESULTS.md); this path does the same work without
// its WHATWG streams and layers.

import { DEFAULT_TIMEOUT_MS, RequestDeadline } from './deadline.js';
import { abortedError, errorFromStatus, type HeaderSource, type ProviderError } from './errors.js';
import { endpointOf, postSse, type Endpoint, type StatusError } from './lean_http.js';
import type { OpenAIOptions } from './openai.js';
import { ChunkFold, chatBody, type ChatCompletionChunk, type MaxTokensField } from './openai_wire.js';
import type { SseEvent } from './sse.js';
import { safeJson, stainlessMessage, stainlessStreamError } from './stainless_errors.js';
import type { ChatRequest, Provider, StreamEvent } from './types.js';

export class OpenAILeanProvider implements Provider {
  readonly kind = 'openai';
  private readonly label: string;
  private readonly maxTokensField: MaxTokensField;
  private readonly endpoint: Endpoint;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  private readonly statusError: StatusError = (status, text, headers) => this.errorOf(status, text, headers);

  constructor(options: OpenAIOptions) {
    this.label = options.label ?? 'openai';
    this.maxTokensField = options.maxTokensField ?? 'max_tokens';
    this.endpoint = endpointOf(options.baseURL ?? 'https://api.openai.com/v1');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.headers = { accept: 'application/json', authorization: `Bearer ${options.apiKey}`, ...options.defaultHeaders };
  }

  async *stream(req: ChatRequest): AsyncIterable<StreamEvent> {
    const { signal } = req;
    if (signal?.aborted) throw abortedError(this.label);
    const deadline = new RequestDeadline(signal, this.timeoutMs);
    const fold = new ChunkFold();
    try {
      const headers = req.headers === undefined ? this.headers : { ...this.headers, ...req.headers };
      const body = chatBody(req, this.maxTokensField);
      let done = false;
      for await (const batch of postSse(this.endpoint, '/chat/completions', headers, body, deadline, this.statusError)) {
        for (const sse of batch) {
          if (!done) done = yield* this.onEvent(sse, fold);
        }
      }
    } catch (err) {
      throw deadline.toError(this.label, err);
    } finally {
      // Ends a body nobody read to its end (the caller broke out), closing that connection.
      deadline.dispose();
    }
    yield* fold.finish(this.label, signal);
  }

  /** One event of the stream; true once `[DONE]` came (what follows is ignored, as the SDK does). */
  private *onEvent(sse: SseEvent, fold: ChunkFold): Generator<StreamEvent, boolean> {
    if (sse.data.startsWith('[DONE]')) return true;
    // Assistants-API events (`thread.*`) never come on this endpoint.
    if (sse.event !== null && sse.event.startsWith('thread.')) return false;
    const data = JSON.parse(sse.data) as ChatCompletionChunk & { error?: unknown };
    if (data.error) {
      // The SDK raises the inner `error` object; its type decides the kind.
      const type = (data.error as { type?: unknown }).type;
      throw stainlessStreamError(this.label, data.error, typeof type === 'string' ? type : undefined);
    }
    yield* fold.events(data);
    return false;
  }

  /** A non-2xx answer, classified as the SDK would (it raises the body's `error` object). */
  private errorOf(status: number, text: string, headers: HeaderSource): ProviderError {
    const json = safeJson(text);
    const error = typeof json === 'object' && json !== null ? (json as { error?: unknown }).error : undefined;
    return errorFromStatus(this.label, status, stainlessMessage(status, error, json === undefined ? text : undefined), headers);
  }
}
