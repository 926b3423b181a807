/**
 * OTLP/JSON for the spans of one thread (OTEL_EXPORTER_OTLP_PROTOCOL=http/json).
 * JSON is the protocol for reading exports by eye, not for volume: the spans
 * wait in the batch and the OpenTelemetry SDK's own serializer writes them
 * when the batch is sent. http/protobuf (the default) is encoded as spans end
 * (otlp_protobuf.ts).
 */
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

export class JsonSpanBatch {
  private readonly spans: ReadableSpan[] = [];

  get count(): number {
    return this.spans.length;
  }

  /** Any span can join (the serializer groups by resource and scope). */
  fits(): boolean {
    return true;
  }

  add(s: ReadableSpan): void {
    this.spans.push(s);
  }

  body(): Uint8Array {
    return JsonTraceSerializer.serializeRequest(this.spans) ?? new Uint8Array(0);
  }
}
