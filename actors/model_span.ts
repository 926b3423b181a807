/**
 * One span per model call (every attempt, retries and failovers included),
 * named and labelled by the OpenTelemetry GenAI semantic conventions, so
 * trace UIs show the model, the provider and the tokens. The call's request
 * carries the span's `traceparent` to the provider. With tracing off it is
 * the provider's stream, untouched.
 */
import type { ChatRequest, Provider, StreamEvent } from '../providers/index.js';
import { SpanKind, endSpan, startSpan, traceparentOf, type Attributes, type Span } from '../observability/tracing.js';

/** gen_ai.provider.name for each provider kind (the convention's names where it has one). */
const GENAI_PROVIDER: Record<string, string> = { openai: 'openai', anthropic: 'anthropic', gemini: 'gcp.gemini', ollama: 'ollama' };

export function tracedStream(provider: Provider, request: ChatRequest): AsyncIterable<StreamEvent> {
  const span = startSpan(`chat ${request.model}`, SpanKind.CLIENT, genAiRequest(provider, request));
  if (span === undefined) return provider.stream(request);
  const stream = provider.stream({ ...request, headers: { ...request.headers, traceparent: traceparentOf(span) } });
  // Sampled out: the upstream still gets the trace, and there is nothing to record.
  if (!span.isRecording()) return stream;
  return { [Symbol.asyncIterator]: () => recorded(stream[Symbol.asyncIterator](), span) };
}

function genAiRequest(provider: Provider, request: ChatRequest): Attributes {
  const attributes: Attributes = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': GENAI_PROVIDER[provider.kind] ?? provider.kind,
    'gen_ai.request.model': request.model,
  };
  if (request.maxTokens !== undefined) attributes['gen_ai.request.max_tokens'] = request.maxTokens;
  if (request.temperature !== undefined) attributes['gen_ai.request.temperature'] = request.temperature;
  return attributes;
}

/**
 * The provider's iterator, with the usage and the stop reason recorded on the
 * span and the span ended by the stream's end, failure or early return. One
 * `then` per event rather than an async generator around the stream: each
 * event of a stream is a few promises fewer, and with tracing on every
 * promise also pays for the context's async hook.
 */
function recorded(it: AsyncIterator<StreamEvent>, span: Span): AsyncIterator<StreamEvent> {
  let open = true;
  const end = (failure?: unknown): void => {
    if (!open) return;
    open = false;
    endSpan(span, failure);
  };
  const seen = (r: IteratorResult<StreamEvent>): IteratorResult<StreamEvent> => {
    if (r.done === true) {
      end();
      return r;
    }
    const ev = r.value;
    if (ev.type === 'usage') {
      span.setAttribute('gen_ai.usage.input_tokens', ev.inputTokens);
      span.setAttribute('gen_ai.usage.output_tokens', ev.outputTokens);
      if (ev.cacheReadTokens !== undefined) span.setAttribute('gen_ai.usage.cache_read.input_tokens', ev.cacheReadTokens);
    } else if (ev.type === 'stop') {
      span.setAttribute('gen_ai.response.finish_reasons', [ev.reason]);
    }
    return r;
  };
  const failed = (err: unknown): never => {
    end(err);
    throw err;
  };
  return {
    next: () => it.next().then(seen, failed),
    return: (value?: unknown) => {
      end();
      return it.return === undefined ? Promise.resolve({ done: true, value: undefined }) : it.return(value);
    },
    throw: (err?: unknown) => {
      end(err);
      return it.throw === undefined ? Promise.reject(err) : it.throw(err);
    },
  };
}
