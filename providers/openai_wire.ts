// The Chat Completions wire format, shared by both OpenAI transports (the
// `openai` SDK and the lean one): the request body built from a ChatRequest,
// and the fold of streamed `chat.completion.chunk`s into StreamEvents. Sharing
// it is what lets the tests compare the two transports field by field.

import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { textOf } from './content.js';
import { abortedError, streamEndedEarly } from './errors.js';
import type { ChatMessage, ChatRequest, StopReason, StreamEvent, ToolSpec, UsageEvent } from './types.js';

export type MaxTokensField = 'max_tokens' | 'max_completion_tokens';
export type { ChatCompletionChunk };

/** The streaming request body; `extra` is merged last. */
export function chatBody(req: ChatRequest, maxTokensField: MaxTokensField): ChatCompletionCreateParamsStreaming {
  const body: ChatCompletionCreateParamsStreaming = {
    model: req.model,
    messages: req.messages.map(toMessage),
    stream: true,
    stream_options: { include_usage: true },
  };
  if (req.tools?.length) body.tools = req.tools.map(toTool);
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.maxTokens !== undefined) body[maxTokensField] = req.maxTokens;
  if (req.stop?.length) body.stop = [...req.stop];
  return req.extra ? ({ ...body, ...req.extra } as ChatCompletionCreateParamsStreaming) : body;
}

/**
 * Folds chunks into events: text and tool-call pieces as they come, usage and
 * the stop only at the end (`finish`), once the stream is known to be whole.
 */
export class ChunkFold {
  private finishReason: string | null = null;
  private usage: UsageEvent | undefined;

  *events(chunk: ChatCompletionChunk): Generator<StreamEvent> {
    if (chunk.usage) this.usage = usageEvent(chunk.usage);
    const choice = chunk.choices?.[0];
    if (!choice) return;
    const delta = choice.delta;
    if (delta?.content) yield { type: 'text', delta: delta.content };
    if (delta?.tool_calls) yield* toolCallEvents(delta.tool_calls);
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
  }

  /** The stream's end: an aborted or cut stream fails, a whole one gives usage then stop. */
  *finish(label: string, signal: AbortSignal | undefined): Generator<StreamEvent> {
    if (signal?.aborted) throw abortedError(label);
    if (this.finishReason === null) throw streamEndedEarly(label);
    if (this.usage) yield this.usage;
    yield { type: 'stop', reason: stopReason(this.finishReason) };
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
