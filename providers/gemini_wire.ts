// The Gemini wire format, shared by both Gemini transports (`@google/genai`
// and the lean one): the conversation as `contents`, tools as function
// declarations, the fold of streamed GenerateContentResponse chunks into
// StreamEvents, and the reading of Google's error bodies. Gemini has no
// tool-call ids and keys tool results by function name, so ids are made up
// here and mapped back to names from the conversation. Only the SDK's types
// are imported: nothing here loads it.

import type {
  Candidate,
  Content,
  FunctionDeclaration,
  GenerateContentResponsePromptFeedback,
  GenerateContentResponseUsageMetadata,
  Part,
  Schema,
} from '@google/genai';
import { parseArguments, textOf, toolNamesById } from './content.js';
import { abortedError, errorFromStatus, MAX_RETRY_AFTER_MS, ProviderError, streamEndedEarly } from './errors.js';
import { cleanGeminiSchema } from './gemini_schema.js';
import type { ChatMessage, ChatRequest, StopReason, StreamEvent, ToolSpec } from './types.js';

export const GEMINI = 'gemini';
export const DEFAULT_GEMINI_URL = 'https://generativelanguage.googleapis.com';
export const DEFAULT_GEMINI_API_VERSION = 'v1beta';
const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII']);

/** What one streamed chunk holds that the fold reads (the SDK's GenerateContentResponse, as plain JSON). */
export interface GeminiChunk {
  readonly candidates?: readonly Candidate[];
  readonly usageMetadata?: GenerateContentResponseUsageMetadata;
  readonly promptFeedback?: GenerateContentResponsePromptFeedback;
}

/** The system messages, joined, as the `systemInstruction` content. */
export function systemInstruction(req: ChatRequest): Content | undefined {
  let text: string | undefined;
  for (const m of req.messages) {
    if (m.role === 'system') text = text === undefined ? textOf(m.content) : `${text}\n\n${textOf(m.content)}`;
  }
  return text === undefined ? undefined : { parts: [{ text }] };
}

/**
 * Folds chunks into events: text and whole tool calls as they come (thoughts
 * skipped), usage and the stop at the end (`finish`), once the stream is known
 * to be whole.
 */
export class ResponseFold {
  private finishReason: string | undefined;
  private usage: GenerateContentResponseUsageMetadata | undefined;
  private calls = 0;

  *events(chunk: GeminiChunk): Generator<StreamEvent> {
    if (chunk.usageMetadata) this.usage = chunk.usageMetadata;
    if (chunk.promptFeedback?.blockReason) this.finishReason = 'SAFETY';
    const candidate = chunk.candidates?.[0];
    for (const part of candidate?.content?.parts ?? []) {
      // Thinking models stream their thoughts as parts marked `thought`; they are not the answer.
      if (part.thought === true) continue;
      if (part.text) yield { type: 'text', delta: part.text };
      if (part.functionCall) {
        const index = this.calls++;
        yield {
          type: 'tool_call',
          index,
          id: `gemini_call_${index}`,
          name: part.functionCall.name ?? '',
          argumentsDelta: JSON.stringify(part.functionCall.args ?? {}),
        };
      }
    }
    if (candidate?.finishReason) this.finishReason = candidate.finishReason;
  }

  *finish(signal: AbortSignal | undefined): Generator<StreamEvent> {
    if (signal?.aborted) throw abortedError(GEMINI);
    if (this.finishReason === undefined) throw streamEndedEarly(GEMINI);
    const usage = this.usage;
    if (usage) {
      const cached = usage.cachedContentTokenCount;
      // Thinking tokens are billed as output but counted apart.
      const thoughts = usage.thoughtsTokenCount;
      yield {
        type: 'usage',
        inputTokens: usage.promptTokenCount ?? 0,
        outputTokens: (usage.candidatesTokenCount ?? 0) + (thoughts ?? 0),
        ...(cached ? { cacheReadTokens: cached } : {}),
      };
    }
    yield { type: 'stop', reason: stopReason(this.finishReason, this.calls > 0) };
  }
}

export function toContents(messages: readonly ChatMessage[]): Content[] {
  const names = toolNamesById(messages);
  const contents: (Content & { parts: Part[] })[] = [];
  const push = (role: 'user' | 'model', parts: Part[]): void => {
    const last = contents[contents.length - 1];
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        break;
      case 'user':
        push('user', [{ text: textOf(message.content) }]);
        break;
      case 'assistant': {
        const parts: Part[] = [];
        const text = textOf(message.content);
        if (text) parts.push({ text });
        for (const call of message.toolCalls ?? []) {
          parts.push({ functionCall: { name: call.name, args: parseArguments(GEMINI, call) } });
        }
        push('model', parts);
        break;
      }
      case 'tool': {
        const name = names.get(message.toolCallId);
        if (name === undefined) {
          throw new ProviderError('bad_request', GEMINI, `tool result ${message.toolCallId} answers no earlier tool call`);
        }
        push('user', [{ functionResponse: { name, response: toolResponse(textOf(message.content)) } }]);
        break;
      }
    }
  }
  return contents;
}

/** Gemini wants an object as the function response; plain text is wrapped. */
function toolResponse(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // not JSON: wrapped below
  }
  return { content: text };
}

/**
 * A tool as Gemini declares it, with its schema cleaned (gemini_schema.ts) and
 * its types in the API's enum (upper case), as the SDK's `processJsonSchema`
 * sends them; the SDK path hands it to the SDK, which leaves it as it is.
 */
export function toDeclaration(tool: ToolSpec): FunctionDeclaration {
  const parameters = cleanGeminiSchema(tool.parameters);
  return {
    name: tool.name,
    description: tool.description,
    ...(parameters ? { parameters: wireSchema(parameters) as Schema } : {}),
  };
}

/** A cleaned schema in the API's form: `type` in upper case down `items` and `properties`, empty fields dropped. */
function wireSchema(schema: { readonly [key: string]: unknown }): { [key: string]: unknown } {
  const out: { [key: string]: unknown } = {};
  for (const [key, value] of Object.entries(schema)) {
    if (value == null) continue;
    if (key === 'type' && typeof value === 'string') out.type = value.toUpperCase();
    else if (key === 'items' && typeof value === 'object') out.items = wireSchema(value as { [key: string]: unknown });
    else if (key === 'properties' && typeof value === 'object') {
      const properties: { [key: string]: unknown } = {};
      for (const [name, sub] of Object.entries(value as { [key: string]: unknown })) {
        properties[name] = wireSchema(sub as { [key: string]: unknown });
      }
      out.properties = properties;
    } else out[key] = value;
  }
  return out;
}

/**
 * A failed call, from the message the SDK's ApiError carries: the upstream's
 * JSON error body, whose `error.message` becomes the message and whose
 * google.rpc.RetryInfo becomes retryAfterMs. (The SDK keeps no headers, so a
 * Retry-After header is not read on either transport.)
 */
export function geminiStatusError(status: number, sdkMessage: string, cause?: unknown): ProviderError {
  const details = errorDetails(sdkMessage);
  const message = details.message ?? sdkMessage;
  const error = errorFromStatus(GEMINI, status, message, undefined, cause);
  const retryAfterMs = retryDelay(details.details);
  if (retryAfterMs === undefined || error.retryAfterMs !== undefined) return error;
  return new ProviderError(error.kind, GEMINI, message, { status, retryAfterMs, cause });
}

function errorDetails(message: string): { message?: string; details?: unknown } {
  try {
    const body = JSON.parse(message) as { error?: { message?: unknown; details?: unknown } };
    return { ...(typeof body.error?.message === 'string' ? { message: body.error.message } : {}), details: body.error?.details };
  } catch {
    return {};
  }
}

/** Gemini's 429 carries google.rpc.RetryInfo with a `retryDelay` like "7s" or "1.5s". */
function retryDelay(details: unknown): number | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const detail of details) {
    const delay = (detail as { retryDelay?: unknown } | null)?.retryDelay;
    if (typeof delay !== 'string') continue;
    const match = /^(\d+(?:\.\d+)?)s$/.exec(delay);
    if (match) return Math.min(Math.round(Number(match[1]) * 1000), MAX_RETRY_AFTER_MS);
  }
  return undefined;
}

function stopReason(finish: string, calledTools: boolean): StopReason {
  if (finish === 'MAX_TOKENS') return 'length';
  if (FILTERED.has(finish)) return 'content_filter';
  return calledTools ? 'tool_calls' : 'stop';
}
