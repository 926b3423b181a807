// The OpenAI Chat Completions adapter on the lean transport (lean_http.ts):
// a kept-alive undici pool and the incremental SSE parser (sse.ts), with the
// same wire translation as the SDK adapter (openai_wire.ts) and the same
// errors, down to their messages, so either transport can stand for the other.
// The `openai` SDK costs ~0.8 ms of CPU per streamed completion on the
// benchmark machine (bench/RESULTS.md); this path does the same work without
// its WHATWG streams and layers.

import { DEFAULT_TIMEOUT_MS, RequestDeadline } from './deadline.js';
import { abortedError, errorFromStatus, kindForErrorType, ProviderError } from './errors.js';
import { endpointOf, postJson, type Endpoint, type LeanResponse } from './lean_http.js';
import type { OpenAIOptions } from './openai.js';
import { ChunkFold, chatBody, type ChatCompletionChunk, type MaxTokensField } from './openai_wire.js';
import { SseParser, type SseEvent } from './sse.js';
import type { ChatRequest, Provider, StreamEvent } from './types.js';

/** An error body longer than this is cut before it becomes a message. */
const MAX_ERROR_BODY_CHARS = 64 * 1024;

export class OpenAILeanProvider implements Provider {
  readonly kind = 'openai';
  private readonly label: string;
  private readonly maxTokensField: MaxTokensField;
  private readonly endpoint: Endpoint;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;

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
      let res: LeanResponse;
      try {
        const headers = req.headers === undefined ? this.headers : { ...this.headers, ...req.headers };
        res = await postJson(this.endpoint, '/chat/completions', headers, chatBody(req, this.maxTokensField), deadline);
      } catch (err) {
        throw deadline.toError(this.label, err);
      }
      if (res.status >= 300) throw await this.statusError(res, deadline);
      const parser = new SseParser();
      let done = false;
      try {
        for await (const bytes of res.body as AsyncIterable<Buffer>) {
          for (const sse of parser.push(bytes)) {
            if (!done) done = yield* this.onEvent(sse, fold);
          }
        }
        deadline.finished();
        for (const sse of parser.end()) {
          if (!done) done = yield* this.onEvent(sse, fold);
        }
      } catch (err) {
        throw deadline.toError(this.label, err);
      }
    } finally {
      // Ends a body nobody read to its end (the caller broke out, or an event failed), closing that connection.
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
      const error = data.error as { type?: unknown };
      throw new ProviderError(kindForErrorType(typeof error.type === 'string' ? error.type : undefined), this.label, stainlessMessage(undefined, error, undefined));
    }
    yield* fold.events(data);
    return false;
  }

  /** A non-2xx answer, read and classified as the SDK would. */
  private async statusError(res: LeanResponse, deadline: RequestDeadline): Promise<ProviderError> {
    let text: string;
    try {
      text = (await res.body.text()).slice(0, MAX_ERROR_BODY_CHARS);
    } catch (err) {
      return deadline.toError(this.label, err);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const error = typeof json === 'object' && json !== null ? (json as { error?: unknown }).error : undefined;
    const message = stainlessMessage(res.status, error, json === undefined ? text : undefined);
    return errorFromStatus(this.label, res.status, message, res.headers);
  }
}

/** The message the Stainless SDKs give an API error (`APIError.makeMessage`), so both transports say the same. */
function stainlessMessage(status: number | undefined, error: unknown, fallback: string | undefined): string {
  const inner = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  const msg = inner ? (typeof inner === 'string' ? inner : JSON.stringify(inner)) : error ? JSON.stringify(error) : fallback;
  if (status && msg) return `${status} ${msg}`;
  if (status) return `${status} status code (no body)`;
  if (msg) return msg;
  return '(no status code or body)';
}
