// The Gemini adapter on the lean transport (lean_http.ts): the thread's
// kept-alive undici pool and the incremental SSE parser, with the same wire
// translation as the SDK adapter (gemini_wire.ts) and the same errors, down to
// their messages, so either transport can stand for the other. What it sends
// is what `@google/genai` 2.x sends for `generateContentStream` on the Gemini
// API (not Vertex), less its telemetry headers (user agent, x-goog-api-client).

import { STATUS_CODES } from 'node:http';
import { DEFAULT_TIMEOUT_MS, RequestDeadline } from './deadline.js';
import { abortedError, type HeaderSource, type ProviderError } from './errors.js';
import type { GeminiOptions } from './gemini.js';
import {
  DEFAULT_GEMINI_API_VERSION,
  DEFAULT_GEMINI_URL,
  GEMINI,
  geminiStatusError,
  ResponseFold,
  systemInstruction,
  toContents,
  toDeclaration,
  type GeminiChunk,
} from './gemini_wire.js';
import { endpointOf, postSse, type Endpoint, type StatusError } from './lean_http.js';
import type { SseEvent } from './sse.js';
import type { ChatRequest, Provider, StreamEvent } from './types.js';

type Json = { [key: string]: unknown };

export class GeminiLeanProvider implements Provider {
  readonly kind = GEMINI;
  private readonly endpoint: Endpoint;
  private readonly apiVersion: string;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  private readonly statusError: StatusError = (status, text, headers) => errorOf(status, text, headers);

  constructor(options: GeminiOptions) {
    this.endpoint = endpointOf(options.baseURL ?? DEFAULT_GEMINI_URL);
    this.apiVersion = options.apiVersion ?? DEFAULT_GEMINI_API_VERSION;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // The configured headers win over the key, as in the SDK (it adds the key only when none is set).
    this.headers = { 'x-goog-api-key': options.apiKey, ...options.defaultHeaders };
  }

  async *stream(req: ChatRequest): AsyncIterable<StreamEvent> {
    const { signal } = req;
    if (signal?.aborted) throw abortedError(GEMINI);
    const body = requestBody(req);
    const headers = req.headers === undefined ? this.headers : { ...this.headers, ...req.headers };
    const fold = new ResponseFold();
    const deadline = new RequestDeadline(signal, this.timeoutMs);
    try {
      const path = `/${this.apiVersion}/${modelPath(req.model)}:streamGenerateContent?alt=sse`;
      for await (const batch of postSse(this.endpoint, path, headers, body, deadline, this.statusError)) {
        for (const sse of batch) {
          const chunk = chunkOf(sse);
          if (chunk !== undefined) yield* fold.events(chunk);
        }
      }
    } catch (err) {
      throw deadline.toError(GEMINI, err);
    } finally {
      // Ends a body nobody read to its end (the caller broke out), closing that connection.
      deadline.dispose();
    }
    yield* fold.finish(signal);
  }
}

/** The body `generateContentStream` sends: contents, system instruction, tools, generation config, then `extra` merged deep. */
function requestBody(req: ChatRequest): Json {
  const body: Json = { contents: toContents(req.messages) };
  const system = systemInstruction(req);
  if (system) body.systemInstruction = system;
  if (req.tools?.length) body.tools = [{ functionDeclarations: req.tools.map(toDeclaration) }];
  const generationConfig: Json = {};
  if (req.temperature !== undefined) generationConfig.temperature = req.temperature;
  if (req.maxTokens !== undefined) generationConfig.maxOutputTokens = req.maxTokens;
  if (req.stop?.length) generationConfig.stopSequences = [...req.stop];
  body.generationConfig = generationConfig;
  return req.extra ? deepMerge(body, req.extra) : body;
}

/** The SDK's `tModel` for the Gemini API: a bare name is a `models/` one. */
function modelPath(model: string): string {
  if (model === '') throw new Error('model is required and must be a string');
  if (model.includes('..') || model.includes('?') || model.includes('&')) throw new Error('invalid model parameter');
  return model.startsWith('models/') || model.startsWith('tunedModels/') ? model : `models/${model}`;
}

/** The SDK's `extraBody` merge: objects merge key by key, anything else replaces. */
function deepMerge(target: Json, source: { readonly [key: string]: unknown }): Json {
  const out: Json = { ...target };
  for (const key of Object.keys(source)) {
    const next = source[key];
    const prev = out[key];
    out[key] = isObject(next) && isObject(prev) ? deepMerge(prev, next) : next;
  }
  return out;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * One event of the stream, as the SDK reads it: a `data:` event is one
 * response chunk, unless it is an error object with an HTTP code, which the
 * SDK raises as an ApiError of that status.
 */
function chunkOf(sse: SseEvent): GeminiChunk | undefined {
  if (sse.event !== null) return undefined;
  const json = JSON.parse(sse.data) as unknown;
  if (!isObject(json)) return undefined;
  const error = json.error;
  if (isObject(error) && typeof error.code === 'number' && error.code >= 400 && error.code < 600) {
    throw geminiStatusError(error.code, `got status: ${String(error.status)}. ${JSON.stringify(json)}`);
  }
  return json as GeminiChunk;
}

/** A non-2xx answer, as the SDK's `throwErrorIfNotOK` reads it: a JSON body as it is, any other wrapped. */
function errorOf(status: number, text: string, headers: HeaderSource): ProviderError {
  const body: unknown = headers.get('content-type')?.includes('application/json')
    ? JSON.parse(text)
    : { error: { message: text, code: status, status: STATUS_CODES[status] ?? '' } };
  const message = JSON.stringify(body);
  // A 3xx is no API error to the SDK: a plain Error, which becomes a network failure.
  if (status < 400 || status >= 600) throw new Error(message);
  return geminiStatusError(status, message);
}
