/**
 * The `fetch` the platform SDKs that take one are given (grammY's `Api`,
 * Slack's `WebClient`): their requests go out on undici's dispatcher, with
 * keep-alive connections per origin, instead of the global `fetch` (Slack) or
 * node-fetch over `node:http` (grammY). The SDK still builds each request and
 * reads each answer; only the transport underneath is lighter.
 *
 *   SDK ── fetch(url, { method, headers, body: string }) ──► SdkFetch ──► requestWhole (undici Agent.dispatch)
 *                       body a stream or FormData (uploads) ──► globalThis.fetch
 *
 * Why: per channel message the SDK's HTTP call was the main thread's largest
 * cost (grammY + node-fetch + node:http ~1 ms of CPU per sendMessage, the
 * global fetch 1.7–3.7 ms per Slack call; bench/RESULTS.md, issue 11).
 *
 * Every request carries the current span's `traceparent` when tracing is on
 * (a `traceparent` the SDK set wins). A response offers what the SDKs read:
 * `ok`, `status`, `statusText`, `url`, `headers` and the body as text, JSON or
 * bytes, read whole and bounded (whole_answer.ts) before the SDK sees the answer.
 */
import { STATUS_CODES } from 'node:http';
import { Agent } from 'undici';
import { traceHeaders } from '../../observability/tracing.js';
import { CONNECTIONS_PER_ORIGIN } from './wire.js';
import { parseRawHeaders, requestWhole } from './whole_answer.js';
/** The largest answer read (a getUpdates page of 100 long messages fits). */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;
/** Distinct URL strings remembered parsed (an SDK calls one per API method). */
const MAX_REMEMBERED_URLS = 256;
/** Headers undici sets itself and refuses from callers (grammY sends `connection: keep-alive`). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'content-length']);

/** A parsed request URL: what undici's request takes, and the href the answer reports. */
interface Target {
  origin: string;
  path: string;
  href: string;
}

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
  readonly #targets = new Map<string, Target>();

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
    const url = typeof input === 'string' ? this.#target(input) : { origin: input.origin, path: input.pathname + input.search, href: input.href };
    const headers: Record<string, string> = traceHeaders();
    for (const [k, v] of headerPairs(init.headers)) {
      const name = k.toLowerCase();
      if (!HOP_BY_HOP.has(name)) headers[name] = v;
    }
    const answer = await requestWhole(this.#agent, {
      origin: url.origin,
      path: url.path,
      method: (init.method ?? 'GET').toUpperCase() as 'GET',
      headers,
      ...(body === undefined || body === null ? {} : { body }),
      ...(init.signal === undefined || init.signal === null ? {} : { signal: init.signal }),
      timeoutMs: this.timeoutMs,
    }, MAX_ANSWER_BYTES);
    return new UndiciResponse(answer.status, answer.rawHeaders, url.href, answer.body);
  };

  /** Where a URL string points; the SDKs call a handful of URLs over and over, so each is parsed once. */
  #target(href: string): Target {
    let t = this.#targets.get(href);
    if (t === undefined) {
      const u = new URL(href);
      t = { origin: u.origin, path: u.pathname + u.search, href: u.href };
      if (this.#targets.size >= MAX_REMEMBERED_URLS) this.#targets.delete(this.#targets.keys().next().value as string);
      this.#targets.set(href, t);
    }
    return t;
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

/**
 * An undici answer as the SDKs read it: read whole already; the `Headers`
 * object is built only when asked for (grammY never asks; Slack's client
 * reads a few on each answer).
 */
class UndiciResponse implements SdkResponse {
  #headers: Headers | undefined;

  constructor(
    readonly status: number,
    private readonly rawHeaders: Buffer[],
    readonly url: string,
    private readonly bytes: Buffer,
  ) {}

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get statusText(): string {
    return STATUS_CODES[this.status] ?? '';
  }

  get headers(): Headers {
    if (this.#headers === undefined) {
      const h = new Headers();
      for (const [k, v] of Object.entries(parseRawHeaders(this.rawHeaders))) {
        if (Array.isArray(v)) for (const item of v) h.append(k, item);
        else h.set(k, v);
      }
      this.#headers = h;
    }
    return this.#headers;
  }

  text(): Promise<string> {
    return Promise.resolve(this.bytes.toString('utf8'));
  }

  json(): Promise<unknown> {
    try {
      return Promise.resolve(JSON.parse(this.bytes.toString('utf8')) as unknown);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    const b = this.bytes;
    return Promise.resolve(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
  }
}

function headerPairs(h: SdkFetchInit['headers']): Iterable<[string, string]> {
  if (h === undefined) return [];
  if (h instanceof Headers || Array.isArray(h)) return h;
  return Object.entries(h);
}
