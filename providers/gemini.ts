// The Gemini adapter, through `@google/genai` (the maintained SDK; 2.x is the
// last line for Node 20). Gemini has no tool-call ids and keys tool results by
// function name, so ids are made up here and mapped back to names from the
// conversation. Tool schemas are cleaned to the subset Gemini accepts (see
// gemini_schema.ts).
//
// The SDK's retries are off (the provider actor owns retries and failover) and
// its timeout is not used: our RequestDeadline bounds the whole call.

import {
  ApiError,
  GoogleGenAI,
  type Content,
  type FunctionDeclaration,
  type GenerateContentConfig,
  type GenerateContentResponseUsageMetadata,
  type HttpOptions,
  type Part,
  type Schema,
} from '@google/genai';
import { parseArguments, textOf, toolNamesById } from './content.js';
import { DEFAULT_TIMEOUT_MS, RequestDeadline } from './deadline.js';
import { abortedError, errorFromStatus, MAX_RETRY_AFTER_MS, ProviderError, streamEndedEarly } from './errors.js';
import { cleanGeminiSchema } from './gemini_schema.js';
import type { ChatMessage, ChatRequest, HttpProviderOptions, Provider, StopReason, StreamEvent, ToolSpec } from './types.js';

export interface GeminiOptions extends HttpProviderOptions {
  readonly apiKey: string;
  /** Default 'v1beta', where function calling and system instructions live. */
  readonly apiVersion?: string;
}

const PROVIDER = 'gemini';
const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII']);

/** The SDK client for one endpoint: our base URL, API version and headers; no SDK retries. */
export function geminiClient(o: HttpProviderOptions & { readonly apiKey: string; readonly apiVersion?: string }): GoogleGenAI {
  const httpOptions: HttpOptions = {
    apiVersion: o.apiVersion ?? 'v1beta',
    retryOptions: { attempts: 1 },
    ...(o.baseURL ? { baseUrl: o.baseURL.replace(/\/+$/, '') } : {}),
    ...(o.defaultHeaders ? { headers: { ...o.defaultHeaders } } : {}),
  };
  return new GoogleGenAI({ apiKey: o.apiKey, httpOptions });
}

export class GeminiProvider implements Provider {
  readonly kind = PROVIDER;
  private readonly client: GoogleGenAI;
  private readonly options: GeminiOptions;

  constructor(options: GeminiOptions) {
    this.options = options;
    this.client = geminiClient(options);
  }

  async *stream(req: ChatRequest): AsyncIterable<StreamEvent> {
    if (req.signal?.aborted) throw abortedError(PROVIDER);
    const messages = toContents(req.messages);
    const deadline = new RequestDeadline(req.signal, this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    let finish: string | undefined;
    let usage: GenerateContentResponseUsageMetadata | undefined;
    let calls = 0;
    try {
      const stream = await this.client.models.generateContentStream({
        model: req.model,
        contents: messages,
        config: this.config(req, deadline.signal),
      });
      deadline.responded();
      for await (const chunk of stream) {
        if (chunk.usageMetadata) usage = chunk.usageMetadata;
        if (chunk.promptFeedback?.blockReason) finish = 'SAFETY';
        const candidate = chunk.candidates?.[0];
        for (const part of candidate?.content?.parts ?? []) {
          // Thinking models stream their thoughts as parts marked `thought`; they are not the answer.
          if (part.thought === true) continue;
          if (part.text) yield { type: 'text', delta: part.text };
          if (part.functionCall) {
            const index = calls++;
            yield {
              type: 'tool_call',
              index,
              id: `gemini_call_${index}`,
              name: part.functionCall.name ?? '',
              argumentsDelta: JSON.stringify(part.functionCall.args ?? {}),
            };
          }
        }
        if (candidate?.finishReason) finish = candidate.finishReason;
      }
    } catch (err) {
      throw classifyGemini(err, deadline);
    } finally {
      deadline.dispose();
    }
    if (req.signal?.aborted) throw abortedError(PROVIDER);
    if (finish === undefined) throw streamEndedEarly(PROVIDER);
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
    yield { type: 'stop', reason: stopReason(finish, calls > 0) };
  }

  private config(req: ChatRequest, signal: AbortSignal): GenerateContentConfig {
    const system = req.messages.filter((m) => m.role === 'system').map((m) => textOf(m.content));
    const config: GenerateContentConfig = { abortSignal: signal };
    if (system.length) config.systemInstruction = { parts: [{ text: system.join('\n\n') }] };
    if (req.tools?.length) config.tools = [{ functionDeclarations: req.tools.map(toDeclaration) }];
    if (req.temperature !== undefined) config.temperature = req.temperature;
    if (req.maxTokens !== undefined) config.maxOutputTokens = req.maxTokens;
    if (req.stop?.length) config.stopSequences = [...req.stop];
    // Per-request headers (the trace) ride with the configured ones.
    if (req.headers) config.httpOptions = { headers: { ...this.options.defaultHeaders, ...req.headers } };
    // Fields the adapter does not model go into the request body as given.
    if (req.extra) config.httpOptions = { ...config.httpOptions, extraBody: { ...req.extra } };
    return config;
  }
}

function toContents(messages: readonly ChatMessage[]): Content[] {
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
          parts.push({ functionCall: { name: call.name, args: parseArguments(PROVIDER, call) } });
        }
        push('model', parts);
        break;
      }
      case 'tool': {
        const name = names.get(message.toolCallId);
        if (name === undefined) {
          throw new ProviderError('bad_request', PROVIDER, `tool result ${message.toolCallId} answers no earlier tool call`);
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

function toDeclaration(tool: ToolSpec): FunctionDeclaration {
  const parameters = cleanGeminiSchema(tool.parameters);
  // The cleaned schema is the subset FunctionDeclarationSchema describes.
  return {
    name: tool.name,
    description: tool.description,
    ...(parameters ? { parameters: parameters as unknown as Schema } : {}),
  };
}

/** Maps what the Gemini SDK throws (also for embeddings, embed_gemini.ts). */
export function classifyGemini(err: unknown, deadline: RequestDeadline): ProviderError {
  if (err instanceof ApiError && typeof err.status === 'number') {
    // The SDK puts the upstream's JSON error body in the message.
    const details = errorDetails(err.message);
    const message = details.message ?? err.message;
    const error = errorFromStatus(PROVIDER, err.status, message, undefined, err);
    const retryAfterMs = retryDelay(details.details);
    if (retryAfterMs === undefined || error.retryAfterMs !== undefined) return error;
    return new ProviderError(error.kind, PROVIDER, message, { status: err.status, retryAfterMs, cause: err });
  }
  // Everything else the SDK raises (its abort, fetch failed, stream read or
  // parse failed) is the deadline's, the caller's or the transport's.
  return deadline.toError(PROVIDER, err);
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
