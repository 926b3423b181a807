// The Gemini adapter, through `@google/generative-ai`. Gemini has no tool-call
// ids and keys tool results by function name, so ids are made up here and
// mapped back to names from the conversation. Tool schemas are cleaned to the
// subset Gemini accepts (see gemini_schema.ts).
//
// The SDK's own timeout arms a timer it never clears, which would hold the
// process open, so the timeout is our RequestDeadline instead.

import {
  GoogleGenerativeAI,
  GoogleGenerativeAIFetchError,
  GoogleGenerativeAIRequestInputError,
  type Content,
  type EnhancedGenerateContentResponse,
  type FunctionDeclaration,
  type FunctionDeclarationSchema,
  type GenerateContentRequest,
  type GenerativeModel,
  type Part,
} from '@google/generative-ai';
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

export class GeminiProvider implements Provider {
  readonly kind = PROVIDER;
  private readonly client: GoogleGenerativeAI;
  private readonly options: GeminiOptions;

  constructor(options: GeminiOptions) {
    this.options = options;
    this.client = new GoogleGenerativeAI(options.apiKey);
  }

  async *stream(req: ChatRequest): AsyncIterable<StreamEvent> {
    if (req.signal?.aborted) throw abortedError(PROVIDER);
    const deadline = new RequestDeadline(req.signal, this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    let finish: string | undefined;
    let usage: EnhancedGenerateContentResponse['usageMetadata'];
    let calls = 0;
    try {
      const result = await this.model(req.model).generateContentStream(this.body(req), {
        signal: deadline.signal,
        // Per-request headers replace the model's, so the configured ones come along.
        ...(req.headers ? { customHeaders: { ...this.options.defaultHeaders, ...req.headers } } : {}),
      });
      deadline.responded();
      // The SDK also aggregates the stream into a second promise; it rejects
      // with the same failure we report from the stream, so it is silenced.
      result.response.catch(() => undefined);
      for await (const chunk of result.stream) {
        if (chunk.usageMetadata) usage = chunk.usageMetadata;
        if (chunk.promptFeedback?.blockReason) finish = 'SAFETY';
        const candidate = chunk.candidates?.[0];
        for (const part of candidate?.content?.parts ?? []) {
          // Thinking models stream their thoughts as parts marked `thought`; they are not the answer.
          if ((part as { thought?: unknown }).thought === true) continue;
          if (part.text) yield { type: 'text', delta: part.text };
          if (part.functionCall) {
            const index = calls++;
            yield {
              type: 'tool_call',
              index,
              id: `gemini_call_${index}`,
              name: part.functionCall.name,
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
      // Thinking tokens are billed as output but counted apart (newer than the SDK's types).
      const thoughts = (usage as { thoughtsTokenCount?: unknown }).thoughtsTokenCount;
      yield {
        type: 'usage',
        inputTokens: usage.promptTokenCount ?? 0,
        outputTokens: (usage.candidatesTokenCount ?? 0) + (typeof thoughts === 'number' ? thoughts : 0),
        ...(cached ? { cacheReadTokens: cached } : {}),
      };
    }
    yield { type: 'stop', reason: stopReason(finish, calls > 0) };
  }

  private model(name: string): GenerativeModel {
    const { baseURL, defaultHeaders, apiVersion } = this.options;
    return this.client.getGenerativeModel(
      { model: name },
      {
        ...(baseURL ? { baseUrl: baseURL.replace(/\/+$/, '') } : {}),
        ...(defaultHeaders ? { customHeaders: { ...defaultHeaders } } : {}),
        apiVersion: apiVersion ?? 'v1beta',
      },
    );
  }

  private body(req: ChatRequest): GenerateContentRequest {
    const system = req.messages.filter((m) => m.role === 'system').map((m) => textOf(m.content));
    const body: GenerateContentRequest = { contents: toContents(req.messages) };
    if (system.length) body.systemInstruction = { role: 'system', parts: [{ text: system.join('\n\n') }] };
    if (req.tools?.length) body.tools = [{ functionDeclarations: req.tools.map(toDeclaration) }];
    const config: NonNullable<GenerateContentRequest['generationConfig']> = {};
    if (req.temperature !== undefined) config.temperature = req.temperature;
    if (req.maxTokens !== undefined) config.maxOutputTokens = req.maxTokens;
    if (req.stop?.length) config.stopSequences = [...req.stop];
    if (Object.keys(config).length) body.generationConfig = config;
    return req.extra ? ({ ...body, ...req.extra } as GenerateContentRequest) : body;
  }
}

function toContents(messages: readonly ChatMessage[]): Content[] {
  const names = toolNamesById(messages);
  const contents: Content[] = [];
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
function toolResponse(text: string): object {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed;
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
    ...(parameters ? { parameters: parameters as unknown as FunctionDeclarationSchema } : {}),
  };
}

/** Maps what the Gemini SDK throws (also for embeddings, embed_gemini.ts). */
export function classifyGemini(err: unknown, deadline: RequestDeadline): ProviderError {
  if (err instanceof GoogleGenerativeAIFetchError && typeof err.status === 'number') {
    const error = errorFromStatus(PROVIDER, err.status, err.message, undefined, err);
    const retryAfterMs = retryDelay(err.errorDetails);
    if (retryAfterMs === undefined || error.retryAfterMs !== undefined) return error;
    return new ProviderError(error.kind, PROVIDER, err.message, { status: err.status, retryAfterMs, cause: err });
  }
  if (err instanceof GoogleGenerativeAIRequestInputError) {
    return new ProviderError('bad_request', PROVIDER, err.message, { cause: err });
  }
  // Everything else the SDK raises (its abort, fetch failed, stream read or
  // parse failed) is the deadline's, the caller's or the transport's.
  return deadline.toError(PROVIDER, err);
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
