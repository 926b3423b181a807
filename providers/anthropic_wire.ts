// The Anthropic Messages wire format, shared by both Anthropic transports (the
// `@anthropic-ai/sdk` one and the lean one): the request body built from a
// ChatRequest, and the fold of the streamed events into StreamEvents. System
// messages become the `system` blocks, tool results become `tool_result`
// blocks in a user turn, and every cacheControl marker is passed on as
// `cache_control`. `temperature` is not sent: API version 2026-10-21 (SDK 1.x)
// removed it. Only the SDK's types are imported: nothing here loads it.

import type {
  ContentBlockParam,
  MessageCreateParamsStreaming,
  MessageParam,
  RawMessageStreamEvent,
  TextBlockParam,
  Tool,
} from '@anthropic-ai/sdk/resources/messages';
import { parseArguments, textOf } from './content.js';
import { abortedError, streamEndedEarly } from './errors.js';
import type { CacheControl, ChatMessage, ChatRequest, ContentPart, StopReason, StreamEvent, ToolSpec } from './types.js';

export const ANTHROPIC = 'anthropic';
/** The API version both transports send (the SDK's, 1.12). */
export const ANTHROPIC_VERSION = '2026-10-21';

/** When neither the request nor the configuration sets max_tokens (Anthropic requires it). */
export const DEFAULT_MAX_TOKENS = 4096;

export type { RawMessageStreamEvent };

/** The streaming request body; `extra` is merged last. */
export function messagesBody(req: ChatRequest, defaultMaxTokens: number): MessageCreateParamsStreaming {
  const system: TextBlockParam[] = [];
  const messages: MessageParam[] = [];
  for (const message of req.messages) {
    if (message.role === 'system') system.push(...textBlocks(message.content, message.cacheControl));
    else appendTurn(messages, message.role === 'assistant' ? 'assistant' : 'user', blocksOf(message));
  }
  const body: MessageCreateParamsStreaming = {
    model: req.model,
    max_tokens: req.maxTokens ?? defaultMaxTokens,
    messages,
    stream: true,
  };
  if (system.length) body.system = system;
  if (req.tools?.length) body.tools = req.tools.map(toTool);
  if (req.stop?.length) body.stop_sequences = [...req.stop];
  return req.extra ? ({ ...body, ...req.extra } as MessageCreateParamsStreaming) : body;
}

/** Folds the raw stream events into normalized ones and remembers the totals. */
export class StreamState {
  input = 0;
  output = 0;
  cacheRead = 0;
  cacheWrite = 0;
  reason: StopReason = 'stop';
  stopped = false;
  private readonly toolIndex = new Map<number, number>();

  /** The stream's end: an aborted or cut stream fails, a whole one gives usage then stop. */
  *finish(signal: AbortSignal | undefined): Generator<StreamEvent> {
    if (signal?.aborted) throw abortedError(ANTHROPIC);
    if (!this.stopped) throw streamEndedEarly(ANTHROPIC);
    yield {
      type: 'usage',
      // Normalized: inputTokens counts the whole prompt, cached parts included.
      inputTokens: this.input + this.cacheRead + this.cacheWrite,
      outputTokens: this.output,
      ...(this.cacheRead ? { cacheReadTokens: this.cacheRead } : {}),
      ...(this.cacheWrite ? { cacheWriteTokens: this.cacheWrite } : {}),
    };
    yield { type: 'stop', reason: this.reason };
  }

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
      blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: parseArguments(ANTHROPIC, call) });
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
