// The Anthropic Messages adapter, through `@anthropic-ai/sdk`. System messages
// become the `system` blocks, tool results become `tool_result` blocks in a
// user turn, and every cacheControl marker is passed on as `cache_control`.
// `temperature` is not sent: API version 2026-10-21 (SDK 1.x) removed it.

import Anthropic, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type {
  ContentBlockParam,
  MessageCreateParamsStreaming,
  MessageParam,
  RawMessageStreamEvent,
  TextBlockParam,
  Tool,
} from '@anthropic-ai/sdk/resources/messages';
import { parseArguments, textOf } from './content.js';
import { DEFAULT_TIMEOUT_MS } from './deadline.js';
import { abortedError, streamEndedEarly } from './errors.js';
import { classifyStainless } from './stainless_errors.js';
import { requestOptions } from './request_options.js';
import type {
  CacheControl,
  ChatMessage,
  ChatRequest,
  ContentPart,
  HttpProviderOptions,
  Provider,
  StopReason,
  StreamEvent,
  ToolSpec,
} from './types.js';

export interface AnthropicOptions extends HttpProviderOptions {
  readonly apiKey: string;
  /** Anthropic requires max_tokens; this applies when the request has none. */
  readonly defaultMaxTokens?: number;
}

const ERROR_CLASSES = { APIError, APIUserAbortError, APIConnectionError, APIConnectionTimeoutError };
const PROVIDER = 'anthropic';

export class AnthropicProvider implements Provider {
  readonly kind = PROVIDER;
  private readonly client: Anthropic;
  private readonly defaultMaxTokens: number;

  constructor(options: AnthropicOptions) {
    this.defaultMaxTokens = options.defaultMaxTokens ?? 4096;
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
    if (signal?.aborted) throw abortedError(PROVIDER);
    const state = new StreamState();
    try {
      const stream = await this.client.messages.create(this.body(req), requestOptions(req));
      for await (const event of stream) {
        const out = state.accept(event);
        if (out) yield out;
      }
    } catch (err) {
      throw classifyStainless(ERROR_CLASSES, PROVIDER, err, signal);
    }
    if (signal?.aborted) throw abortedError(PROVIDER);
    if (!state.stopped) throw streamEndedEarly(PROVIDER);
    yield {
      type: 'usage',
      // Normalized: inputTokens counts the whole prompt, cached parts included.
      inputTokens: state.input + state.cacheRead + state.cacheWrite,
      outputTokens: state.output,
      ...(state.cacheRead ? { cacheReadTokens: state.cacheRead } : {}),
      ...(state.cacheWrite ? { cacheWriteTokens: state.cacheWrite } : {}),
    };
    yield { type: 'stop', reason: state.reason };
  }

  private body(req: ChatRequest): MessageCreateParamsStreaming {
    const system: TextBlockParam[] = [];
    const messages: MessageParam[] = [];
    for (const message of req.messages) {
      if (message.role === 'system') system.push(...textBlocks(message.content, message.cacheControl));
      else appendTurn(messages, message.role === 'assistant' ? 'assistant' : 'user', blocksOf(message));
    }
    const body: MessageCreateParamsStreaming = {
      model: req.model,
      max_tokens: req.maxTokens ?? this.defaultMaxTokens,
      messages,
      stream: true,
    };
    if (system.length) body.system = system;
    if (req.tools?.length) body.tools = req.tools.map(toTool);
    if (req.stop?.length) body.stop_sequences = [...req.stop];
    return req.extra ? ({ ...body, ...req.extra } as MessageCreateParamsStreaming) : body;
  }
}

/** Folds the SDK's raw events into normalized ones and remembers the totals. */
class StreamState {
  input = 0;
  output = 0;
  cacheRead = 0;
  cacheWrite = 0;
  reason: StopReason = 'stop';
  stopped = false;
  private readonly toolIndex = new Map<number, number>();

  accept(event: RawMessageStreamEvent): StreamEvent | undefined {
    switch (event.type) {
      case 'message_start': {
        const usage = event.message.usage;
        this.input = usage.input_tokens;
        this.output = usage.output_tokens;
        this.cacheRead = usage.cache_read_input_tokens ?? 0;
        this.cacheWrite = usage.cache_creation_input_tokens ?? 0;
        return undefined;
      }
      case 'content_block_start': {
        const block = event.content_block;
        if (block.type !== 'tool_use') return undefined;
        const index = this.toolIndex.size;
        this.toolIndex.set(event.index, index);
        return { type: 'tool_call', index, id: block.id, name: block.name, argumentsDelta: '' };
      }
      case 'content_block_delta': {
        const delta = event.delta;
        if (delta.type === 'text_delta') return { type: 'text', delta: delta.text };
        const index = this.toolIndex.get(event.index);
        if (delta.type === 'input_json_delta' && index !== undefined && delta.partial_json !== '') {
          return { type: 'tool_call', index, argumentsDelta: delta.partial_json };
        }
        return undefined;
      }
      case 'message_delta': {
        // Counts here are cumulative for the whole message.
        const usage = event.usage;
        this.output = usage.output_tokens;
        if (usage.input_tokens != null) this.input = usage.input_tokens;
        if (usage.cache_read_input_tokens != null) this.cacheRead = usage.cache_read_input_tokens;
        if (usage.cache_creation_input_tokens != null) this.cacheWrite = usage.cache_creation_input_tokens;
        if (event.delta.stop_reason) this.reason = stopReason(event.delta.stop_reason);
        return undefined;
      }
      case 'message_stop':
        this.stopped = true;
        return undefined;
      default:
        return undefined;
    }
  }
}

function cache(control: CacheControl | undefined): { cache_control?: { type: 'ephemeral'; ttl?: '5m' | '1h' } } {
  return control ? { cache_control: { ...control } } : {};
}

/** A message-level marker lands on the message's last block, where Anthropic reads breakpoints. */
function markLast<T extends ContentBlockParam>(blocks: T[], control: CacheControl | undefined): T[] {
  const last = blocks[blocks.length - 1];
  if (control && last) blocks[blocks.length - 1] = { ...last, ...cache(control) };
  return blocks;
}

function textBlocks(content: string | readonly ContentPart[], control: CacheControl | undefined): TextBlockParam[] {
  const blocks: TextBlockParam[] =
    typeof content === 'string'
      ? content === ''
        ? []
        : [{ type: 'text', text: content }]
      : content.map((part) => ({ type: 'text', text: part.text, ...cache(part.cacheControl) }));
  return markLast(blocks, control);
}

function blocksOf(message: Exclude<ChatMessage, { role: 'system' }>): ContentBlockParam[] {
  if (message.role === 'tool') {
    const result = { type: 'tool_result' as const, tool_use_id: message.toolCallId, content: textOf(message.content) };
    return markLast([result], message.cacheControl);
  }
  const blocks: ContentBlockParam[] = textBlocks(message.content, undefined);
  if (message.role === 'assistant' && message.toolCalls) {
    for (const call of message.toolCalls) {
      blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: parseArguments(PROVIDER, call) });
    }
  }
  return markLast(blocks, message.cacheControl);
}

/** Consecutive same-role turns merge: tool results must share one user turn. */
function appendTurn(messages: MessageParam[], role: 'user' | 'assistant', blocks: ContentBlockParam[]): void {
  const last = messages[messages.length - 1];
  if (last && last.role === role && Array.isArray(last.content)) {
    last.content.push(...blocks);
    return;
  }
  messages.push({ role, content: blocks });
}

function toTool(tool: ToolSpec): Tool {
  return {
    name: tool.name,
    description: tool.description,
    input_schema: { type: 'object', ...tool.parameters },
    ...cache(tool.cacheControl),
  };
}

function stopReason(reason: string): StopReason {
  switch (reason) {
    case 'tool_use':
      return 'tool_calls';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}
