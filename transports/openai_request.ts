/**
 * OpenAI chat-completions requests in, Troupe chat turns out, and back again.
 *
 * Two modes, chosen by the caller (the X-Troupe-Session-Key header):
 * - with a session, Troupe keeps the history, so only the LAST user message
 *   is sent; client-side `tools` are refused there (a session's history has
 *   no place for the client's tool results);
 * - stateless (OpenAI's own semantics), the client keeps the history: the
 *   whole conversation goes to the agent (after its own system prompt), and
 *   `tools` the client declares are offered to the model; calls to them end
 *   the run and come back as OpenAI `tool_calls`.
 * Unknown fields are ignored, as OpenAI-compatible servers commonly do.
 */
import type { ChatEventMap, ClientToolCall, ClientToolSpec, ConversationMessage } from '../actors/chat_contract.js';
import { jsonDepthExceeds } from './depth_scan.js';
import { invalidField, TroupeError } from './errors.js';

export interface CompletionRequest {
  model: string;
  /** The last user message (all a session-keyed request sends). */
  message: string;
  /** Every message, in order (what a stateless request sends). */
  conversation: ConversationMessage[];
  /** Client-side tools; absent when none were sent or `tool_choice` is "none". */
  tools?: ClientToolSpec[];
  stream: boolean;
  includeUsage: boolean;
}

const MAX_MESSAGES = 1000;
const MAX_MODEL_CHARS = 128;
/** OpenAI's own limit on `tools`. */
export const MAX_CLIENT_TOOLS = 128;
const MAX_TOOL_CALLS = 128;
const MAX_DESCRIPTION_CHARS = 8_192;
const MAX_ID_CHARS = 256;
/** OpenAI's rule for function names. */
const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function asObject(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Text of a message's content: a string, or the text parts of a content array. */
function contentText(content: unknown, field: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw invalidField(field, `"${field}" must be a string or an array of text parts`, 'field_type');
  const parts: string[] = [];
  for (const part of content) {
    const obj = asObject(part);
    if (obj?.type !== 'text' || typeof obj.text !== 'string') {
      throw invalidField(field, `"${field}" supports only {type:"text", text} parts`, 'unsupported_content');
    }
    parts.push(obj.text);
  }
  return parts.join('');
}

function boundedString(v: unknown, field: string, max: number): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) {
    throw invalidField(field, `"${field}" must be a non-empty string of at most ${max} characters`, 'field_type');
  }
  return v;
}

function parseToolCalls(v: unknown, field: string, maxChars: number): ClientToolCall[] {
  if (!Array.isArray(v) || v.length > MAX_TOOL_CALLS) {
    throw invalidField(field, `"${field}" must be an array of at most ${MAX_TOOL_CALLS} tool calls`, 'field_type');
  }
  return v.map((raw, j) => {
    const f = `${field}[${j}]`;
    const call = asObject(raw);
    const fn = asObject(call?.function);
    if (call === undefined || fn === undefined || (call.type !== undefined && call.type !== 'function')) {
      throw invalidField(f, `"${f}" must be {id, type:"function", function:{name, arguments}}`, 'field_type');
    }
    const args = fn.arguments ?? '{}';
    if (typeof args !== 'string' || args.length > maxChars) {
      throw invalidField(`${f}.function.arguments`, `"${f}.function.arguments" must be a JSON string of at most ${maxChars} characters`, 'field_type');
    }
    return {
      id: boundedString(call.id, `${f}.id`, MAX_ID_CHARS),
      name: boundedString(fn.name, `${f}.function.name`, MAX_MODEL_CHARS),
      arguments: args,
    };
  });
}

function parseMessage(raw: unknown, i: number, maxChars: number): ConversationMessage {
  const field = `messages[${i}]`;
  const m = asObject(raw);
  if (m === undefined || typeof m.role !== 'string') throw invalidField(field, 'Each message needs a string "role"', 'field_type');
  const text = (): string => {
    const t = m.content === null || m.content === undefined ? '' : contentText(m.content, `${field}.content`);
    if (t.length > maxChars) throw invalidField(`${field}.content`, `A message must be at most ${maxChars} characters`, 'field_too_long');
    return t;
  };
  switch (m.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: text() };
    case 'user':
      return { role: 'user', content: text() };
    case 'assistant': {
      const calls = m.tool_calls === undefined || m.tool_calls === null ? [] : parseToolCalls(m.tool_calls, `${field}.tool_calls`, maxChars);
      return { role: 'assistant', content: text(), ...(calls.length > 0 ? { toolCalls: calls } : {}) };
    }
    case 'tool':
      return { role: 'tool', toolCallId: boundedString(m.tool_call_id, `${field}.tool_call_id`, MAX_ID_CHARS), content: text() };
    default:
      throw invalidField(`${field}.role`, `Unsupported role "${m.role.slice(0, 32)}" (use system, developer, user, assistant or tool)`, 'unsupported_role');
  }
}

function parseTools(v: unknown): ClientToolSpec[] {
  if (!Array.isArray(v) || v.length > MAX_CLIENT_TOOLS) {
    throw invalidField('tools', `"tools" must be an array of at most ${MAX_CLIENT_TOOLS} tools`, 'field_type');
  }
  const seen = new Set<string>();
  return v.map((raw, i) => {
    const field = `tools[${i}]`;
    const tool = asObject(raw);
    const fn = asObject(tool?.function);
    if (tool?.type !== 'function' || fn === undefined) {
      throw invalidField(field, `"${field}" must be {type:"function", function:{name, description?, parameters?}}`, 'field_type');
    }
    const name = fn.name;
    if (typeof name !== 'string' || !TOOL_NAME.test(name)) {
      throw invalidField(`${field}.function.name`, 'A tool name must be 1 to 64 letters, digits, "_" or "-"', 'field_type');
    }
    if (seen.has(name)) throw invalidField(`${field}.function.name`, `Tool "${name}" is declared twice`, 'duplicate_tool');
    seen.add(name);
    const description = fn.description ?? '';
    if (typeof description !== 'string' || description.length > MAX_DESCRIPTION_CHARS) {
      throw invalidField(`${field}.function.description`, `A tool description must be a string of at most ${MAX_DESCRIPTION_CHARS} characters`, 'field_type');
    }
    const parameters = fn.parameters === undefined ? { type: 'object', properties: {} } : asObject(fn.parameters);
    if (parameters === undefined) throw invalidField(`${field}.function.parameters`, 'Tool parameters must be a JSON Schema object', 'field_type');
    return { name, description, parameters };
  });
}

/** "none" hides the client's tools; "auto", "required" and a named function offer them (the model decides). */
function toolChoiceHides(v: unknown): boolean {
  if (v === undefined || v === null || v === 'auto' || v === 'required') return false;
  if (v === 'none') return true;
  if (asObject(v)?.type === 'function') return false;
  throw invalidField('tool_choice', '"tool_choice" must be "none", "auto", "required" or {type:"function", function:{name}}', 'field_type');
}

export function parseCompletionRequest(body: Buffer, maxDepth: number, maxMessageChars: number): CompletionRequest {
  if (jsonDepthExceeds(body, maxDepth)) {
    throw new TroupeError('INVALID_REQUEST', `JSON nests deeper than ${maxDepth} levels`, { reason: 'too_deep' });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new TroupeError('INVALID_REQUEST', 'Body is not valid JSON', { reason: 'malformed_json' });
  }
  const req = asObject(parsed);
  if (req === undefined) throw new TroupeError('INVALID_REQUEST', 'Body must be a JSON object', { reason: 'not_an_object' });

  const model = req.model;
  if (typeof model !== 'string' || model.length === 0 || model.length > MAX_MODEL_CHARS) {
    throw invalidField('model', `"model" must be a non-empty string of at most ${MAX_MODEL_CHARS} characters`, 'field_type');
  }
  const messages = req.messages;
  if (!Array.isArray(messages) || messages.length === 0 || messages.length > MAX_MESSAGES) {
    throw invalidField('messages', `"messages" must be an array of 1 to ${MAX_MESSAGES} messages`, 'field_type');
  }
  const conversation = messages.map((m, i) => parseMessage(m, i, maxMessageChars));
  let message: string | undefined;
  for (let i = conversation.length - 1; i >= 0 && message === undefined; i--) {
    const m = conversation[i];
    if (m.role === 'user') message = m.content;
  }
  if (message === undefined || message.length === 0) {
    throw invalidField('messages', 'The request needs a non-empty user message', 'field_required');
  }
  if (req.stream !== undefined && req.stream !== null && typeof req.stream !== 'boolean') {
    throw invalidField('stream', '"stream" must be a boolean', 'field_type');
  }
  const tools = req.tools === undefined || req.tools === null ? [] : parseTools(req.tools);
  const hidden = toolChoiceHides(req.tool_choice);
  const streamOptions = asObject(req.stream_options);
  return {
    model,
    message,
    conversation,
    ...(tools.length > 0 && !hidden ? { tools } : {}),
    stream: req.stream === true,
    includeUsage: streamOptions?.include_usage === true,
  };
}

export function finishReason(stopReason: string | undefined): 'stop' | 'length' | 'content_filter' | 'tool_calls' {
  if (stopReason === 'max_tokens' || stopReason === 'length') return 'length';
  if (stopReason === 'tool_calls') return 'tool_calls';
  if (stopReason === 'content_filter') return 'content_filter';
  return 'stop';
}

export function openaiUsage(usage: ChatEventMap['chat.final']['usage']): Record<string, unknown> {
  const prompt = usage?.inputTokens ?? 0;
  const completion = usage?.outputTokens ?? 0;
  const cached = usage?.cachedTokens ?? 0;
  return {
    prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion,
    ...(cached > 0 ? { prompt_tokens_details: { cached_tokens: cached } } : {}),
  };
}

interface CompletionIds {
  id: string;
  created: number;
  model: string;
}

/** Client tool calls in OpenAI's shape (`index` for stream deltas). */
export function openaiToolCalls(calls: ClientToolCall[], withIndex: boolean): Record<string, unknown>[] {
  return calls.map((c, index) => ({
    ...(withIndex ? { index } : {}),
    id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments },
  }));
}

export function completionObject(ids: CompletionIds, final: ChatEventMap['chat.final']): Record<string, unknown> {
  const calls = final.toolCalls ?? [];
  const message: Record<string, unknown> = calls.length > 0
    ? { role: 'assistant', content: final.text.length > 0 ? final.text : null, tool_calls: openaiToolCalls(calls, false), refusal: null }
    : { role: 'assistant', content: final.text, refusal: null };
  return {
    ...ids,
    object: 'chat.completion',
    choices: [{
      index: 0,
      message,
      finish_reason: finishReason(final.stopReason),
      logprobs: null,
    }],
    usage: openaiUsage(final.usage),
  };
}

/** One SSE `data:` event carrying a chat.completion.chunk. */
export function chunkEvent(ids: CompletionIds, choices: unknown[], usage?: Record<string, unknown>): string {
  const chunk: Record<string, unknown> = { ...ids, object: 'chat.completion.chunk', choices };
  if (usage !== undefined) chunk.usage = usage;
  return `data: ${JSON.stringify(chunk)}\n\n`;
}
