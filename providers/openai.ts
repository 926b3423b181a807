// The OpenAI Chat Completions adapter. It also serves every OpenAI-compatible
// host (OpenRouter, Groq, DeepSeek, Mistral, vLLM...) by baseURL. Streams with
// `stream_options.include_usage` so usage is exact.
//
// Two transports speak the same wire format (openai_wire.ts): the lean one
// (openai_lean.ts, the default: undici keep-alive pool and an incremental SSE
// parser) and this one, through the official `openai` SDK, kept as the
// reference the tests compare the lean one against (`transport: 'sdk'`).

import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { DEFAULT_TIMEOUT_MS } from './deadline.js';
import { abortedError } from './errors.js';
import { ChunkFold, chatBody, type MaxTokensField } from './openai_wire.js';
import { classifyStainless } from './stainless_errors.js';
import { requestOptions } from './request_options.js';
import type { ChatRequest, HttpProviderOptions, Provider, StreamEvent } from './types.js';

export interface OpenAIOptions extends HttpProviderOptions {
  readonly apiKey: string;
  /** The name errors carry, e.g. 'openrouter' for a compatible host. Default 'openai'. */
  readonly label?: string;
  /** Newer OpenAI models only accept max_completion_tokens; most compatible hosts want max_tokens. */
  readonly maxTokensField?: MaxTokensField;
}

const ERROR_CLASSES = { APIError, APIUserAbortError, APIConnectionError, APIConnectionTimeoutError };

/** The SDK client for chat and embeddings alike. */
export function openaiClient(options: HttpProviderOptions & { readonly apiKey: string }): OpenAI {
  return new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseURL ?? 'https://api.openai.com/v1',
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    // Retries belong to the provider actor, which sees every attempt.
    maxRetries: 0,
    ...(options.defaultHeaders ? { defaultHeaders: { ...options.defaultHeaders } } : {}),
  });
}

export class OpenAIProvider implements Provider {
  readonly kind = 'openai';
  private readonly client: OpenAI;
  private readonly label: string;
  private readonly maxTokensField: MaxTokensField;

  constructor(options: OpenAIOptions) {
    this.label = options.label ?? 'openai';
    this.maxTokensField = options.maxTokensField ?? 'max_tokens';
    this.client = openaiClient(options);
  }

  async *stream(req: ChatRequest): AsyncIterable<StreamEvent> {
    const { signal } = req;
    if (signal?.aborted) throw abortedError(this.label);
    const fold = new ChunkFold();
    try {
      const stream = await this.client.chat.completions.create(chatBody(req, this.maxTokensField), requestOptions(req));
      for await (const chunk of stream) yield* fold.events(chunk);
    } catch (err) {
      throw classifyStainless(ERROR_CLASSES, this.label, err, signal);
    }
    // The SDK ends an aborted stream quietly; the caller must still learn of it.
    yield* fold.finish(this.label, signal);
  }
}
