/**
 * OpenAI chat-completions requests in, Troupe chat turns out, and back again.
 * Troupe sessions keep their own history, so only the LAST user message of a
 * request is sent; earlier messages and system prompts are the agent's and the
 * session's business. Unknown fields are ignored, as OpenAI-compatible servers
 * commonly do.
 */
import type { ChatEventMap } from './backend.js';
import { jsonDepthExceeds } from './depth_scan.js';
import { invalidField, TroupeError } from './errors.js';

export interface CompletionRequest {
  model: string;
  message: string;
  stream: boolean;
  includeUsage: boolean;
}

const MAX_MESSAGES = 1000;
const MAX_MODEL_CHARS = 128;

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
  let message: string | undefined;
  for (let i = messages.length - 1; i >= 0 && message === undefined; i--) {
    const m = asObject(messages[i]);
    if (m === undefined || typeof m.role !== 'string') throw invalidField(`messages[${i}]`, 'Each message needs a string "role"', 'field_type');
    if (m.role === 'user') message = contentText(m.content, `messages[${i}].content`);
  }
  if (message === undefined || message.length === 0) {
    throw invalidField('messages', 'The request needs a non-empty user message', 'field_required');
  }
  if (message.length > maxMessageChars) {
    throw invalidField('messages', `The user message must be at most ${maxMessageChars} characters`, 'field_too_long');
  }
  if (req.stream !== undefined && req.stream !== null && typeof req.stream !== 'boolean') {
    throw invalidField('stream', '"stream" must be a boolean', 'field_type');
  }
  const streamOptions = asObject(req.stream_options);
  return {
    model,
    message,
    stream: req.stream === true,
    includeUsage: streamOptions?.include_usage === true,
  };
}

export function finishReason(stopReason: string | undefined): 'stop' | 'length' | 'content_filter' {
  if (stopReason === 'max_tokens' || stopReason === 'length') return 'length';
  if (stopReason === 'content_filter') return 'content_filter';
  return 'stop';
}

export function openaiUsage(usage: ChatEventMap['chat.final']['usage']): Record<string, number> {
  const prompt = usage?.inputTokens ?? 0;
  const completion = usage?.outputTokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

interface CompletionIds {
  id: string;
  created: number;
  model: string;
}

export function completionObject(ids: CompletionIds, final: ChatEventMap['chat.final']): Record<string, unknown> {
  return {
    ...ids,
    object: 'chat.completion',
    choices: [{
      index: 0,
      message: { role: 'assistant', content: final.text, refusal: null },
      finish_reason: finishReason(final.stopReason),
      logprobs: null,
    }],
    usage: openaiUsage(final.usage),
  };
}

/** One SSE `data:` event carrying a chat.completion.chunk. */
export function chunkEvent(ids: CompletionIds, choices: unknown[], usage?: Record<string, number>): string {
  const chunk: Record<string, unknown> = { ...ids, object: 'chat.completion.chunk', choices };
  if (usage !== undefined) chunk.usage = usage;
  return `data: ${JSON.stringify(chunk)}\n\n`;
}
