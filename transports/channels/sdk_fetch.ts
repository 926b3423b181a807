/**
 * The `fetch` the platform SDKs that take one are given (grammY's `Api`,
 * Slack's `WebClient`): their requests go out on undici's dispatcher, with
 * keep-alive connections per origin, instead of the global `fetch` (Slack) or
 * node-fetch over `node:http` (grammY). The SDK still builds each request and
 * reads each answer; only the transport underneath is lighter.
 *
 *   SDK ── fetch(url, { method, headers, body: string }) ──► SdkFetch ──► undici Agent.request
 *                       body a stream or FormData (uploads) ──► globalThis.fetch
 *
 * Why: per channel message the SDK's HTTP call was the main thread's largest
 * cost (grammY + node-fetch + node:http ~1 ms of CPU per sendMessage, the
 * global fetch 1.7–3.7 ms per Slack call; bench/RESULTS.md, issue 11).
 *
 * Every request carries the current span's `traceparent` when tracing is on
 * (a `traceparent` the SDK set wins). A response offers what the SDKs read:
 * `ok`, `status`, `statusText`, `url`, `headers` and the body as text, JSON or
 * bytes, read once and bounded.
 */
import { STATUS_CODES } from 'node:http';
import { Agent } from 'undici';
import { traceHeaders } from '../../observability/tracing.js';
import { CONNECTIONS_PER_ORIGIN, readBounded } from './wire.js';
/** The largest answer read (a getUpdates page of 100 long messages fits). */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;
/** Headers undici sets itself and refuses from callers (grammY sends `connection: keep-alive`). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'content-length']);

/** The part of a fetch request's options the SDKs pass. */
export interface SdkFetchInit {
  method?: string;
  headers?: Record<string, string> | Headers | [string, string][];
  body?: unknown;
  signal?: AbortSignal | null;
  [option: string]: unknown;
}

/** The part of a fetch `Response` the SDKs read. */
export interface SdkResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  readonly url: string;
  readonly headers: Headers;
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export class SdkFetch {
  readonly #agent: Agent;

  constructor(private readonly timeoutMs = 60_000) {
    this.#agent = new Agent({ connections: CONNECTIONS_PER_ORIGIN, keepAliveTimeout: 30_000 });
  }

  /** A `fetch` for the SDK's options (bound: pass it as is). */
  readonly fetch = async (input: string | URL, init: SdkFetchInit = {}): Promise<SdkResponse> => {
    const body = init.body;
    if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) {
      // Uploads (a form-data stream, FormData): the global fetch knows them all.
      const headers = new Headers(init.headers);
      for (const [k, v] of Object.entries(traceHeaders())) if (!headers.has(k)) headers.set(k, v);
      return globalThis.fetch(input, { ...(init as RequestInit), headers });
    }
    const url = typeof input === 'string' ? new URL(input) : input;
    const headers: Record<string, string> = { ...traceHeaders() };
    for (const [k, v] of headerPairs(init.headers)) {
      const name = k.toLowerCase();
      if (!HOP_BY_HOP.has(name)) headers[name] = v;
    }
    const res = await this.#agent.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: (init.method ?? 'GET').toUpperCase() as 'GET',
      headers,
      body: body ?? undefined,
      signal: init.signal ?? undefined,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    // Read at once, so the connection is free for the next call even when the SDK never reads the body.
    const bytes = readBounded(res.body, MAX_ANSWER_BYTES);
    bytes.catch(() => undefined);
    const responseHeaders = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (Array.isArray(v)) for (const item of v) responseHeaders.append(k, item);
      else if (v !== undefined) responseHeaders.set(k, v);
    }
    const text = async () => (await bytes).toString('utf8');
    return {
      ok: res.statusCode >= 200 && res.statusCode < 300,
      status: res.statusCode,
      statusText: STATUS_CODES[res.statusCode] ?? '',
      url: url.href,
      headers: responseHeaders,
      text,
      json: async () => JSON.parse(await text()) as unknown,
      arrayBuffer: async () => {
        const b = await bytes;
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
      },
    };
  };

  close(): Promise<void> {
    return this.#agent.close();
  }
}

function headerPairs(h: SdkFetchInit['headers']): Iterable<[string, string]> {
  if (h === undefined) return [];
  if (h instanceof Headers || Array.isArray(h)) return h;
  return Object.entries(h);
}
