// A fake OpenTelemetry collector: OTLP over HTTP on 127.0.0.1, `POST /v1/traces`
// with a JSON body (http/json) or a protobuf one (http/protobuf, decoded with
// protobufjs and the OTLP messages, and kept raw too). Both are unpacked into
// the same flat spans the tests query.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeTraceRequest } from './otlp_proto.js';

export interface CollectedSpan {
  traceId: string;
  spanId: string;
  /** '' for a span without a parent. */
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  /** The resource's attributes (service.name, troupe.thread). */
  resource: Record<string, unknown>;
  /** 2 = error. */
  status: number;
}

interface OtlpValue { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean; arrayValue?: { values?: OtlpValue[] } }
interface OtlpAttribute { key: string; value: OtlpValue }

function valueOf(v: OtlpValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(valueOf);
  return undefined;
}

function attributes(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of list ?? []) out[a.key] = valueOf(a.value);
  return out;
}

export class OtlpCollector {
  readonly spans: CollectedSpan[] = [];
  /** Raw bodies of http/protobuf requests. */
  readonly protobufBodies: Buffer[] = [];
  readonly contentTypes: string[] = [];
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const type = String(req.headers['content-type'] ?? '');
        if (req.method !== 'POST' || req.url !== '/v1/traces') {
          res.writeHead(404).end();
          return;
        }
        this.contentTypes.push(type);
        if (type.includes('protobuf')) {
          this.protobufBodies.push(body);
          this.collect(decodeTraceRequest(body));
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
          return;
        }
        this.collect(JSON.parse(body.toString('utf8')));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
  }

  private collect(payload: { resourceSpans?: { resource?: { attributes?: OtlpAttribute[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[] }): void {
    for (const rs of payload.resourceSpans ?? []) {
      const resource = attributes(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            traceId: String(s.traceId), spanId: String(s.spanId), parentSpanId: String(s.parentSpanId ?? ''), name: String(s.name),
            kind: Number(s.kind), attributes: attributes(s.attributes as OtlpAttribute[]), resource,
            status: Number((s.status as { code?: number } | undefined)?.code ?? 0),
          });
        }
      }
    }
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Waits (a bounded number of short rounds) until `done` holds over the spans so far. */
  async until(done: (spans: CollectedSpan[]) => boolean, rounds = 300): Promise<CollectedSpan[]> {
    for (let i = 0; i < rounds && !done(this.spans); i++) await new Promise((r) => setTimeout(r, 20));
    return this.spans;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
