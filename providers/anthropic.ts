// The Anthropic Messages adapter through `@anthropic-ai/sdk`, kept as the
// reference the lean transport (anthropic_lean.ts, the default) is tested
// against (`transport: 'sdk'`). Both speak the same wire format
// (anthropic_wire.ts).

import Anthropic, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import { ANTHROPIC, DEFAULT_MAX_TOKENS, messagesBody, StreamState } from './anthropic_wire.js';
import { DEFAULT_TIMEOUT_MS } from './deadline.js';
import { abortedError } from './errors.js';
import { classifyStainless } from './stainless_errors.js';
import { requestOptions } from './request_options.js';
import type { ChatRequest, HttpProviderOptions, Provider, StreamEvent } from './types.js';

export interface AnthropicOptions extends HttpProviderOptions {
  readonly apiKey: string;
  /** Anthropic requires max_tokens; this applies when the request has none. */
  readonly defaultMaxTokens?: number;
}

const ERROR_CLASSES = { APIError, APIUserAbortError, APIConnectionError, APIConnectionTimeoutError };

export class AnthropicProvider implements Provider {
  readonly kind = ANTHROPIC;
  private readonly client: Anthropic;
  private readonly defaultMaxTokens: number;

  constructor(options: AnthropicOptions) {
    this.defaultMaxTokens = options.defaultMaxTokens ?? DEFAULT_MAX_TOKENS;
    this.client = new Anthropic({
      apiKey: options.apiKey,
      baseURL: options.baseURL ?? 'https://api.anthropic.com',
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxRetries: 0,
      ...(options.defaultHeaders ? { defaultHeaders: { ...options.defaultHeaders } } : {}),
    });
  }

  async *stream(req: ChatRequest): AsyncIterable<StreamEvent> {
    const { signal } = req;
    if (signal?.aborted) throw abortedError(ANTHROPIC);
    const state = new StreamState();
    try {
      const stream = await this.client.messages.create(messagesBody(req, this.defaultMaxTokens), requestOptions(req));
      for await (const event of stream) {
        const out = state.accept(event);
        if (out) yield out;
      }
    } catch (err) {
      throw classifyStainless(ERROR_CLASSES, ANTHROPIC, err, signal);
    }
    yield* state.finish(signal);
  }
}
