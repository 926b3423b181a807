// The lean transport of the HTTP adapters: one undici Agent per thread (a
// keep-alive pool per upstream origin) and `dispatcher.request`, which hands
// back the body as a Node stream: no WHATWG Request/Response/ReadableStream
// objects per request, no SDK layers. Time to response and the caller's abort
// go through RequestDeadline, as in the fetch-based adapters.
//
// The streaming adapters (OpenAI, Anthropic, Gemini) share one exchange,
// `postSse`; each keeps only its wire format:
//
//   POST ──► status ≥ 300 ──► body read whole (≤ 64 KiB) ──► adapter's statusError ──► throw
//              └─ 2xx ──► body chunks ──► SseParser ──► batches of events ──► adapter's fold

import type { IncomingHttpHeaders } from 'node:http';
import { Agent, type Dispatcher } from 'undici';
import { RequestDeadline } from './deadline.js';
import type { HeaderSource, ProviderError } from './errors.js';
import { SseParser, type SseEvent } from './sse.js';

/** Open connections to one upstream origin at most, per thread; more requests queue in the pool. */
export const MAX_CONNECTIONS_PER_ORIGIN = 1_024;
/** How long an idle kept-alive connection stays open. */
const KEEP_ALIVE_MS = 30_000;

let shared: Agent | undefined;

/** This thread's pool of kept-alive upstream connections (made on first use). */
export function leanDispatcher(): Dispatcher {
  shared ??= new Agent({ connections: MAX_CONNECTIONS_PER_ORIGIN, keepAliveTimeout: KEEP_ALIVE_MS, pipelining: 1 });
  return shared;
}

/** Closes this thread's pool (tests and shutdown); the next request opens a new one. */
export async function closeLeanDispatcher(): Promise<void> {
  const agent = shared;
  shared = undefined;
  await agent?.close();
}

/** An error body longer than this is cut before it becomes a message. */
export const MAX_ERROR_BODY_CHARS = 64 * 1024;

/** A base URL split once: the origin for the pool, the path prefix for requests. */
export interface Endpoint {
  readonly origin: string;
  readonly prefix: string;
}

export function endpointOf(baseURL: string): Endpoint {
  const url = new URL(baseURL);
  return { origin: url.origin, prefix: url.pathname.replace(/\/+$/, '') + url.search };
}

export interface LeanResponse {
  readonly status: number;
  readonly headers: HeaderSource;
  readonly body: Dispatcher.ResponseData['body'];
}

/**
 * POSTs a JSON body. The deadline's signal covers the whole exchange; the
 * caller calls `deadline.responded()` once the status is in and
 * `deadline.dispose()` when done (which also ends a body nobody read).
 */
export async function postJson(
  endpoint: Endpoint,
  path: string,
  headers: Record<string, string>,
  body: unknown,
  deadline: RequestDeadline,
): Promise<LeanResponse> {
  const res = await leanDispatcher().request({
    origin: endpoint.origin,
    path: endpoint.prefix + path,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: deadline.signal,
  });
  deadline.responded();
  return { status: res.statusCode, headers: headerSource(res.headers), body: res.body };
}

/** How an adapter reads a non-2xx answer: its status, its body (cut), its headers. */
export type StatusError = (status: number, text: string, headers: HeaderSource) => ProviderError;

/**
 * One streamed exchange: POSTs a JSON body and yields the answer's
 * Server-Sent Events, in batches (the events one body chunk completed), as
 * they arrive. A non-2xx answer is read to its end (so its connection is
 * reused) and thrown as `statusError` makes it. What fails on the way (the
 * connection, the deadline, the caller's abort, a line too long) is thrown as
 * it comes: the caller turns it into a ProviderError with `deadline.toError`,
 * and calls `deadline.dispose()` when done, which closes the connection of a
 * body not read to its end (the caller broke out, or an event failed).
 */
export async function* postSse(
  endpoint: Endpoint,
  path: string,
  headers: Record<string, string>,
  body: unknown,
  deadline: RequestDeadline,
  statusError: StatusError,
): AsyncGenerator<SseEvent[], void, undefined> {
  const res = await postJson(endpoint, path, headers, body, deadline);
  if (res.status >= 300) throw statusError(res.status, (await res.body.text()).slice(0, MAX_ERROR_BODY_CHARS), res.headers);
  const parser = new SseParser();
  for await (const bytes of res.body as AsyncIterable<Buffer>) {
    const events = parser.push(bytes);
    if (events.length > 0) yield events;
  }
  // Read to its end: the connection is back in the pool, and dispose need not abort it.
  deadline.finished();
  const rest = parser.end();
  if (rest.length > 0) yield rest;
}

/** Node's header record seen through the WHATWG `get` that the error helpers read. */
function headerSource(headers: IncomingHttpHeaders): HeaderSource {
  return {
    get(name: string): string | null {
      const v = headers[name.toLowerCase()];
      if (v === undefined) return null;
      return Array.isArray(v) ? v.join(', ') : v;
    },
  };
}
