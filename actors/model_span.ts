/**
 * One span per model call (every attempt, retries and failovers included),
 * named and labelled by the OpenTelemetry GenAI semantic conventions, so
 * trace UIs show the model, the provider and the tokens. The call's request
 * carries the span's `traceparent` to the provider. With tracing off there is
 * no span and the request goes as it is.
 *
 * The loop that reads the provider's stream records on the span as it goes
 * (`modelEvent` for each event, `endSpan` at the end or failure), rather than
 * the stream being wrapped: a wrapping iterator costs a promise per event,
 * and with tracing on every promise also pays for the context's async hook.
 *
 *     const { call, span } = modelCall(provider, model, request);
 *     try {
 *       for await (const ev of provider.stream(call)) { modelEvent(span, ev); … }
 *     } catch (err) { endSpan(span, err); throw err; }
 *     endSpan(span);
 */
import type { ChatRequest, Provider, StreamEvent } from '../providers/index.js';
import { SpanKind, startSpan, traceparentOf, type Attributes, type Context, type Span } from '../observability/tracing.js';

export { endSpan } from '../observability/tracing.js';

/** gen_ai.provider.name for each provider kind (the convention's names where it has one). */
const GENAI_PROVIDER: Record<string, string> = { openai: 'openai', anthropic: 'anthropic', gemini: 'gcp.gemini', ollama: 'ollama' };

/**
 * The request for one model call (`request` asking for `model`) and its span
 * under `parent` (default: the current context). With tracing on, the
 * request carries the span's `traceparent` (sampled out too: the upstream
 * still gets the trace); off, there is no span. One copy of the request
 * either way: the call's headers are set as it is built.
 */
export function modelCall(
  provider: Provider, model: string, request: Omit<ChatRequest, 'model'>, parent?: Context,
): { call: ChatRequest; span: Span | undefined } {
  const span = startSpan(`chat ${model}`, SpanKind.CLIENT, genAiRequest(provider, model, request), parent);
  const call: ChatRequest = span === undefined
    ? { ...request, model }
    : { ...request, model, headers: { ...request.headers, traceparent: traceparentOf(span) } };
  return { call, span };
}

function genAiRequest(provider: Provider, model: string, request: Omit<ChatRequest, 'model'>): Attributes {
  const attributes: Attributes = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': GENAI_PROVIDER[provider.kind] ?? provider.kind,
    'gen_ai.request.model': model,
  };
  if (request.maxTokens !== undefined) attributes['gen_ai.request.max_tokens'] = request.maxTokens;
  if (request.temperature !== undefined) attributes['gen_ai.request.temperature'] = request.temperature;
  return attributes;
}

/** Records a stream event on the call's span: the usage and the stop reason (other events, and no span, record nothing). */
export function modelEvent(span: Span | undefined, ev: StreamEvent): void {
  if (span === undefined) return;
  if (ev.type === 'usage') {
    span.setAttribute('gen_ai.usage.input_tokens', ev.inputTokens);
    span.setAttribute('gen_ai.usage.output_tokens', ev.outputTokens);
    if (ev.cacheReadTokens !== undefined) span.setAttribute('gen_ai.usage.cache_read.input_tokens', ev.cacheReadTokens);
  } else if (ev.type === 'stop') {
    span.setAttribute('gen_ai.response.finish_reasons', [ev.reason]);
  }
}
