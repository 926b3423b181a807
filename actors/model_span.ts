/**
 * One span per model call (every attempt, retries and failovers included),
 * named and labelled by the OpenTelemetry GenAI semantic conventions, so
 * trace UIs show the model, the provider and the tokens. The call's request
 * carries the span's `traceparent` to the provider. With tracing off it is
 * the provider's stream, untouched.
 */
import type { ChatRequest, Provider, StreamEvent } from '../providers/index.js';
import { SpanKind, endSpan, startSpan, traceparentOf } from '../observability/tracing.js';

/** gen_ai.provider.name for each provider kind (the convention's names where it has one). */
const GENAI_PROVIDER: Record<string, string> = { openai: 'openai', anthropic: 'anthropic', gemini: 'gcp.gemini', ollama: 'ollama' };

export function tracedStream(provider: Provider, request: ChatRequest): AsyncIterable<StreamEvent> {
  const span = startSpan(`chat ${request.model}`, SpanKind.CLIENT, {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': GENAI_PROVIDER[provider.kind] ?? provider.kind,
    'gen_ai.request.model': request.model,
    ...(request.maxTokens === undefined ? {} : { 'gen_ai.request.max_tokens': request.maxTokens }),
    ...(request.temperature === undefined ? {} : { 'gen_ai.request.temperature': request.temperature }),
  });
  if (span === undefined) return provider.stream(request);
  return (async function* traced() {
    let failure: unknown;
    try {
      for await (const ev of provider.stream({ ...request, headers: { ...request.headers, traceparent: traceparentOf(span) } })) {
        if (ev.type === 'usage') {
          span.setAttribute('gen_ai.usage.input_tokens', ev.inputTokens);
          span.setAttribute('gen_ai.usage.output_tokens', ev.outputTokens);
          if (ev.cacheReadTokens !== undefined) span.setAttribute('gen_ai.usage.cache_read.input_tokens', ev.cacheReadTokens);
        } else if (ev.type === 'stop') {
          span.setAttribute('gen_ai.response.finish_reasons', [ev.reason]);
        }
        yield ev;
      }
    } catch (err) {
      failure = err;
      throw err;
    } finally {
      endSpan(span, failure);
    }
  })();
}
