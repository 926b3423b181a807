// The OpenAI Chat Completions adapter, through the `openai` SDK. It also serves
// every OpenAI-compatible host (OpenRouter, Groq, DeepSeek, Mistral, vLLM...)
// by baseURL. Streams with `stream_options.include_usage` so usage is exact.

import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { textOf } from './content.js';
import { DEFAULT_TIMEOUT_MS } from './deadline.js';
import { abortedError, streamEndedEarly } from './errors.js';
import { classifyStainless } from './stainless_errors.js';
import { requestOptions } from './request_options.js';
import type {
  ChatMessage,
  ChatRequest,
  HttpProviderOptions,
  Provider,
  StopReason,
  StreamEvent,
  ToolSpec,
  UsageEvent,
} from './types.js';

export interface OpenAIOptions extends HttpProviderOptions {
  readonly apiKey: string;
  /** The name errors carry, e.g. 'openrouter' for a compatible host. Default 'openai'. */
  readonly label?: string;
  /** Newer OpenAI models only accept max_completion_tokens; most compatible hosts want max_tokens. */
  readonly maxTokensField?: 'max_tokens' | 'max_completion_tokens';
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
  private readonly maxTokensField: 'max_tokens' | 'max_completion_tokens';

  constructor(options: OpenAIOptions) {
    this.label = options.label ?? 'openai';
    this.maxTokensField = options.maxTokensField ?? 'max_tokens';
    this.client = openaiClient(options);
  }

  async *stream(req: ChatRequest): AsyncIterable<StreamEvent> {
    const { signal } = req;
    if (signal?.aborted) throw abortedError(this.label);
    let finish: string | null = null;
    let usage: UsageEvent | undefined;
    try {
      const stream = await this.client.chat.completions.create(this.body(req), requestOptions(req));
      for await (const chunk of stream) {
        if (chunk.usage) usage = usageEvent(chunk.usage);
        const choice = chunk.choices[0];
        if (!choice) continue;
        const delta = choice.delta;
        if (delta?.content) yield { type: 'text', delta: delta.content };
        if (delta?.tool_calls) yield* toolCallEvents(delta.tool_calls);
        if (choice.finish_reason) finish = choice.finish_reason;
      }
    } catch (err) {
      throw classifyStainless(ERROR_CLASSES, this.label, err, signal);
    }
    // The SDK ends an aborted stream quietly; the caller must still learn of it.
    if (signal?.aborted) throw abortedError(this.label);
    if (finish === null) throw streamEndedEarly(this.label);
    if (usage) yield usage;
    yield { type: 'stop', reason: stopReason(finish) };
  }

  private body(req: ChatRequest): ChatCompletionCreateParamsStreaming {
    const body: ChatCompletionCreateParamsStreaming = {
      model: req.model,
      messages: req.messages.map(toMessage),
      stream: true,
      stream_options: { include_usage: true },
    };
    if (req.tools?.length) body.tools = req.tools.map(toTool);
    if (req.temperature !== undefined) body.temperature = req.temperature;
    if (req.maxTokens !== undefined) body[this.maxTokensField] = req.maxTokens;
    if (req.stop?.length) body.stop = [...req.stop];
    return req.extra ? ({ ...body, ...req.extra } as ChatCompletionCreateParamsStreaming) : body;
  }
}

function toMessage(message: ChatMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: textOf(message.content) };
    case 'user':
      return { role: 'user', content: textOf(message.content) };
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: textOf(message.content) };
    case 'assistant': {
      const text = textOf(message.content);
      if (!message.toolCalls?.length) return { role: 'assistant', content: text };
      return {
        role: 'assistant',
        content: text === '' ? null : text,
        tool_calls: message.toolCalls.map((call) => ({
          id: call.id,
          type: 'function',
          function: { name: call.name, arguments: call.arguments },
        })),
      };
    }
  }
}

function toTool(tool: ToolSpec): ChatCompletionTool {
  return { type: 'function', function: { name: tool.name, description: tool.description, parameters: { ...tool.parameters } } };
}

function* toolCallEvents(calls: readonly ChatCompletionChunk.Choice.Delta.ToolCall[]): Generator<StreamEvent> {
  for (const call of calls) {
    yield {
      type: 'tool_call',
      index: call.index,
      ...(call.id ? { id: call.id } : {}),
      ...(call.function?.name ? { name: call.function.name } : {}),
      argumentsDelta: call.function?.arguments ?? '',
    };
  }
}

function usageEvent(usage: NonNullable<ChatCompletionChunk['usage']>): UsageEvent {
  const cached = usage.prompt_tokens_details?.cached_tokens;
  return {
    type: 'usage',
    inputTokens: usage.prompt_tokens,
    outputTokens: usage.completion_tokens,
    ...(cached ? { cacheReadTokens: cached } : {}),
  };
}

function stopReason(finish: string): StopReason {
  switch (finish) {
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'length':
      return 'length';
    case 'content_filter':
      return 'content_filter';
    default:
      return 'stop';
  }
}
