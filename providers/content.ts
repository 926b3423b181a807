// Small conversions every adapter needs on the normalized messages.

import { ProviderError } from './errors.js';
import type { ChatMessage, ContentPart, ToolCall } from './types.js';

export function textOf(content: string | readonly ContentPart[]): string {
  if (typeof content === 'string') return content;
  let text = '';
  for (const part of content) text += part.text;
  return text;
}

/** Tool-call arguments as an object, for vendors that want one (not a JSON text). */
export function parseArguments(provider: string, call: ToolCall): { [key: string]: unknown } {
  if (call.arguments.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(call.arguments);
  } catch {
    throw new ProviderError('bad_request', provider, `tool call ${call.id} has arguments that are not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ProviderError('bad_request', provider, `tool call ${call.id} arguments must be a JSON object`);
  }
  return parsed as { [key: string]: unknown };
}

/** Maps tool-call ids to tool names, for vendors whose tool results are keyed by name. */
export function toolNamesById(messages: readonly ChatMessage[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const message of messages) {
    if (message.role !== 'assistant' || !message.toolCalls) continue;
    for (const call of message.toolCalls) names.set(call.id, call.name);
  }
  return names;
}
