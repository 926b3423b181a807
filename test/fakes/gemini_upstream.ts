// A fake Gemini upstream: `POST /v1beta/models/<model>:streamGenerateContent?alt=sse`,
// answered as SSE `data:` frames, each a GenerateContentResponse with
// candidates[0].content.parts (text or whole functionCall objects: Gemini does
// not stream partial arguments) and usageMetadata; the last carries finishReason.
// Errors use Google's `{"error":{code,message,status,details}}` body, with a
// google.rpc.RetryInfo detail on 429 as the real API sends; an error inside an
// open stream is a `data:` frame of that body (its code from the scripted type).
// `:embedContent` and `:batchEmbedContents` answer with embeddings (embeddings.ts).

import { textChunks, usageOf, withStreamError, type ScriptedReply } from './script.js';
import { geminiEmbeddings } from './embeddings.js';
import { FakeUpstream, type Rendered } from './upstream.js';

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** The HTTP code an in-stream error carries, by the scripted vendor-neutral type. */
const STREAM_ERROR_CODES: Record<string, number> = {
  rate_limit_error: 429,
  rate_limit_exceeded: 429,
  invalid_request_error: 400,
  authentication_error: 401,
  overloaded_error: 503,
};

const ROUTE = /^\/v1beta\/models\/([^/:]+):streamGenerateContent$/;
const EMBED_ROUTE = /^\/v1beta\/models\/([^/:]+):(embedContent|batchEmbedContents)$/;

export class GeminiUpstream extends FakeUpstream {
  protected render(url: string, body: unknown, reply: ScriptedReply): Rendered | undefined {
    const [path, query = ''] = url.split('?');
    const embed = EMBED_ROUTE.exec(path);
    if (embed) return reply.status !== undefined && reply.status >= 300 ? errorResponse(reply) : geminiEmbeddings(embed[1], embed[2], body);
    const route = ROUTE.exec(path);
    if (!route || !new URLSearchParams(query).has('alt', 'sse')) return undefined;
    if (reply.status !== undefined && reply.status >= 300) return errorResponse(reply);
    return { status: 200, contentType: 'text/event-stream', frames: responseFrames(route[1], reply) };
  }
}

function errorResponse(reply: ScriptedReply): Rendered {
  const status = reply.status ?? 500;
  const details: object[] = [];
  if (status === 429 && reply.retryAfter !== undefined && /^\d+(\.\d+)?$/.test(reply.retryAfter)) {
    details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${reply.retryAfter}s` });
  }
  const error = {
    code: status,
    message: reply.errorMessage ?? `scripted failure ${status}`,
    status: STATUS_NAMES[status] ?? 'UNKNOWN',
    ...(details.length ? { details } : {}),
  };
  return { status, contentType: 'application/json; charset=UTF-8', body: JSON.stringify({ error }) };
}

function responseFrames(model: string, reply: ScriptedReply): string[] {
  const usage = usageOf(reply);
  const thoughts = reply.thinking ? reply.thinking.split(' ').length : 0;
  const frame = (parts: object[], last: boolean): string => {
    const candidate = {
      content: { parts, role: 'model' },
      index: 0,
      ...(last ? { finishReason: reply.finish === 'length' ? 'MAX_TOKENS' : 'STOP' } : {}),
    };
    const usageMetadata = last
      ? {
          promptTokenCount: usage.input,
          candidatesTokenCount: usage.output,
          totalTokenCount: usage.input + usage.output + thoughts,
          ...(thoughts ? { thoughtsTokenCount: thoughts } : {}),
          ...(usage.cacheRead ? { cachedContentTokenCount: usage.cacheRead } : {}),
        }
      : { promptTokenCount: usage.input, totalTokenCount: usage.input };
    // Real Gemini separates SSE events with CRLF pairs; the SDK accepts both.
    return `data: ${JSON.stringify({ candidates: [candidate], usageMetadata, modelVersion: model })}\r\n\r\n`;
  };
  const frames = reply.thinking ? [frame([{ text: reply.thinking, thought: true }], false)] : [];
  for (const text of textChunks(reply)) frames.push(frame([{ text }], false));
  if (reply.toolCalls?.length) {
    frames.push(frame(reply.toolCalls.map((call) => ({ functionCall: { name: call.name, args: call.arguments } })), false));
  }
  frames.push(frame([{ text: '' }], true));
  return withStreamError(frames, reply, (type, message) => {
    const code = STREAM_ERROR_CODES[type] ?? 500;
    return `data: ${JSON.stringify({ error: { code, message, status: STATUS_NAMES[code] ?? 'UNKNOWN' } })}\r\n\r\n`;
  });
}
