// The Anthropic Messages adapter on the lean transport (lean_http.ts): the
// thread's kept-alive undici pool and the incremental SSE parser, with the
// same wire translation as the SDK adapter (anthropic_wire.ts) and the same
// errors, down to their messages (stainless_errors.ts), so either transport
// can stand for the other. What it sends is what `@anthropic-ai/sdk` 1.12
// sends, less its telemetry headers (user agent, x-stainless-*).

import type { AnthropicOptions } from './anthropic.js';
import { ANTHROPIC, ANTHROPIC_VERSION, DEFAULT_MAX_TOKENS, messagesBody, StreamState, type RawMessageStreamEvent } from './anthropic_wire.js';
import { DEFAULT_TIMEOUT_MS, RequestDeadline } from './deadline.js';
import { abortedError, errorFromStatus, type HeaderSource, type ProviderError } from './errors.js';
import { endpointOf, postSse, type Endpoint, type StatusError } from './lean_http.js';
import type { SseEvent } from './sse.js';
import { safeJson, stainlessMessage, stainlessStreamError } from './stainless_errors.js';
import type { ChatRequest, Provider, StreamEvent } from './types.js';

/** Body fields the SDK sends as headers instead (`messages.create`). */
const HEADER_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['user_profile_id', 'anthropic-user-profile-id'],
  ['workspace_id', 'anthropic-workspace-id'],
];

export class AnthropicLeanProvider implements Provider {
  readonly kind = ANTHROPIC;
  private readonly endpoint: Endpoint;
  private readonly timeoutMs: number;
  private readonly defaultMaxTokens: number;
  private readonly headers: Record<string, string>;
  private readonly statusError: StatusError = (status, text, headers) => errorOf(status, text, headers);

  constructor(options: AnthropicOptions) {
    this.endpoint = endpointOf(options.baseURL ?? 'https://api.anthropic.com');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.defaultMaxTokens = options.defaultMaxTokens ?? DEFAULT_MAX_TOKENS;
    this.headers = {
      accept: 'application/json',
      'anthropic-version': ANTHROPIC_VERSION,
      // SDK 1.x sends the API key as a bearer token.
      authorization: `Bearer ${options.apiKey}`,
      ...options.defaultHeaders,
    };
  }

  async *stream(req: ChatRequest): AsyncIterable<StreamEvent> {
    const { signal } = req;
    if (signal?.aborted) throw abortedError(ANTHROPIC);
    const state = new StreamState();
    const deadline = new RequestDeadline(signal, this.timeoutMs);
    try {
      const body = messagesBody(req, this.defaultMaxTokens);
      let headers = req.headers === undefined ? this.headers : { ...this.headers, ...req.headers };
      if (req.extra !== undefined) headers = moveHeaderFields(body, headers);
      for await (const batch of postSse(this.endpoint, '/v1/messages', headers, body, deadline, this.statusError)) {
        for (const sse of batch) {
          const out = onEvent(sse, state);
          if (out) yield out;
        }
      }
    } catch (err) {
      throw deadline.toError(ANTHROPIC, err);
    } finally {
      // Ends a body nobody read to its end (the caller broke out), closing that connection.
      deadline.dispose();
    }
    yield* state.finish(signal);
  }
}

/** One event of the stream, as the SDK's Stream reads it: named events only, `ping` skipped, `error` thrown. */
function onEvent(sse: SseEvent, state: StreamState): StreamEvent | undefined {
  if (sse.event === null || sse.event === 'ping') return undefined;
  if (sse.event === 'error') {
    const body = safeJson(sse.data) ?? sse.data;
    const type = typeof body === 'object' && body !== null ? (body as { error?: { type?: unknown } }).error?.type : undefined;
    throw stainlessStreamError(ANTHROPIC, body, typeof type === 'string' ? type : undefined);
  }
  if (sse.data === '') return undefined;
  return state.accept(JSON.parse(sse.data) as RawMessageStreamEvent);
}

/** A non-2xx answer, classified as the SDK would: its message carries the whole JSON body. */
function errorOf(status: number, text: string, headers: HeaderSource): ProviderError {
  const json = safeJson(text);
  return errorFromStatus(ANTHROPIC, status, stainlessMessage(status, json, json ? undefined : text), headers);
}

/** `extra` may carry the fields the SDK turns into headers; they leave the body as it does. */
function moveHeaderFields(body: object, headers: Record<string, string>): Record<string, string> {
  const fields = body as Record<string, unknown>;
  let out = headers;
  for (const [field, header] of HEADER_FIELDS) {
    const value = fields[field];
    if (value === undefined) continue;
    delete fields[field];
    if (value !== null) out = { ...out, [header]: String(value) };
  }
  return out;
}
