/**
 * A fetch for the MCP streamable-HTTP transport that goes through the SSRF
 * guard (security/safe_fetch.ts): every request's host is resolved once,
 * checked, and the connection pinned to the checked address.
 *
 * safeFetch reads a whole response before returning it. That suits the POSTs
 * that carry requests (their SSE reply ends once the answer is sent), but not
 * the optional long-lived GET stream for server-initiated messages, so GETs
 * are answered 405 here, which the SDK takes as "the server offers no such
 * stream". Tool calls do not need it.
 */
import { asyncContextOnThisThread, traceHeaders } from '../../observability/tracing.js';
import { safeFetch } from '../../security/safe_fetch.js';
import type { Resolver } from '../../security/safe_fetch.js';

export type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

export interface GuardedFetchOptions {
  /** SSRF exceptions (hostnames or IPs); empty by default. Tests allow '127.0.0.1'. */
  allowHosts?: readonly string[];
  /** Per request (default 60 s). */
  timeoutMs?: number;
  /** Largest response body (default 10 MiB). */
  maxBytes?: number;
  resolver?: Resolver;
}

const NULL_BODY = new Set([101, 204, 205, 304]);

function headerRecord(init?: ConstructorParameters<typeof Headers>[0]): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init).forEach((value, key) => {
    out[key] = value;
  });
  return out;
}

export function guardedFetch(options: GuardedFetchOptions = {}): FetchLike {
  // The SDK calls this fetch after awaits of its own: the tool call's trace reaches it only if this thread's
  // context follows awaits (observability/context_managers.ts).
  asyncContextOnThisThread();
  return async (url, init = {}) => {
    const method = (init.method ?? 'GET').toUpperCase();
    if (method === 'GET') return new Response(null, { status: 405, statusText: 'stream not supported through the SSRF guard' });
    const body = typeof init.body === 'string' || init.body instanceof Uint8Array ? init.body : undefined;
    const res = await safeFetch(url, {
      method,
      // The tool call's trace goes along (W3C traceparent), when tracing is on.
      headers: { ...headerRecord(init.headers), ...traceHeaders() },
      body,
      // Redirects are not followed: an MCP endpoint that moves should be reconfigured.
      maxRedirects: 0,
      allowHosts: options.allowHosts ?? [],
      timeoutMs: options.timeoutMs ?? 60_000,
      maxBytes: options.maxBytes ?? 10 * 1024 * 1024,
      resolver: options.resolver,
      signal: init.signal ?? undefined,
      responseType: 'buffer',
    });
    const headers = new Headers();
    for (const [key, value] of Object.entries(res.headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) headers.append(key, v);
    }
    return new Response(NULL_BODY.has(res.status) ? null : new Uint8Array(res.body), { status: res.status, headers });
  };
}
