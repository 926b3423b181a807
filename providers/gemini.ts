// The Gemini adapter through `@google/genai` (the maintained SDK; 2.x is the
// last line for Node 20), kept as the reference the lean transport
// (gemini_lean.ts, the default) is tested against (`transport: 'sdk'`). Both
// speak the same wire format (gemini_wire.ts).
//
// The SDK's retries are off (the provider actor owns retries and failover) and
// its timeout is not used: our RequestDeadline bounds the whole call.

import { ApiError, GoogleGenAI, type GenerateContentConfig, type HttpOptions } from '@google/genai';
import { DEFAULT_TIMEOUT_MS, RequestDeadline } from './deadline.js';
import { abortedError, type ProviderError } from './errors.js';
import { DEFAULT_GEMINI_API_VERSION, GEMINI, geminiStatusError, ResponseFold, systemInstruction, toContents, toDeclaration } from './gemini_wire.js';
import type { ChatRequest, HttpProviderOptions, Provider, StreamEvent } from './types.js';

export interface GeminiOptions extends HttpProviderOptions {
  readonly apiKey: string;
  /** Default 'v1beta', where function calling and system instructions live. */
  readonly apiVersion?: string;
}

/** The SDK client for one endpoint: our base URL, API version and headers; no SDK retries. */
export function geminiClient(o: HttpProviderOptions & { readonly apiKey: string; readonly apiVersion?: string }): GoogleGenAI {
  const httpOptions: HttpOptions = {
    apiVersion: o.apiVersion ?? DEFAULT_GEMINI_API_VERSION,
    retryOptions: { attempts: 1 },
    ...(o.baseURL ? { baseUrl: o.baseURL.replace(/\/+$/, '') } : {}),
    ...(o.defaultHeaders ? { headers: { ...o.defaultHeaders } } : {}),
  };
  return new GoogleGenAI({ apiKey: o.apiKey, httpOptions });
}

export class GeminiProvider implements Provider {
  readonly kind = GEMINI;
  private readonly client: GoogleGenAI;
  private readonly options: GeminiOptions;

  constructor(options: GeminiOptions) {
    this.options = options;
    this.client = geminiClient(options);
  }

  async *stream(req: ChatRequest): AsyncIterable<StreamEvent> {
    if (req.signal?.aborted) throw abortedError(GEMINI);
    const contents = toContents(req.messages);
    const deadline = new RequestDeadline(req.signal, this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const fold = new ResponseFold();
    try {
      const stream = await this.client.models.generateContentStream({ model: req.model, contents, config: this.config(req, deadline.signal) });
      deadline.responded();
      for await (const chunk of stream) yield* fold.events(chunk);
    } catch (err) {
      throw classifyGemini(err, deadline);
    } finally {
      deadline.dispose();
    }
    yield* fold.finish(req.signal);
  }

  private config(req: ChatRequest, signal: AbortSignal): GenerateContentConfig {
    const config: GenerateContentConfig = { abortSignal: signal };
    const system = systemInstruction(req);
    if (system) config.systemInstruction = system;
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

/** Maps what the Gemini SDK throws (also for embeddings, embed_gemini.ts). */
export function classifyGemini(err: unknown, deadline: RequestDeadline): ProviderError {
  // The SDK puts the upstream's JSON error body in the message.
  if (err instanceof ApiError && typeof err.status === 'number') return geminiStatusError(err.status, err.message, err);
  // Everything else the SDK raises (its abort, fetch failed, stream read or
  // parse failed) is the deadline's, the caller's or the transport's.
  return deadline.toError(GEMINI, err);
}
