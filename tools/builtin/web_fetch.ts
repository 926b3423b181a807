/**
 * `web_fetch`: GET a URL through the SSRF guard (security/safe_fetch.ts). The
 * body is returned as untrusted content: the registry screens it for prompt
 * injection and wraps it in delimiters before the model sees it.
 */
import { traceHeaders } from '../../observability/tracing.js';
import { safeFetch } from '../../security/safe_fetch.js';
import type { Resolver } from '../../security/safe_fetch.js';
import { ToolError, toToolError } from '../errors.js';
import type { ToolDefinition } from '../types.js';

export interface WebFetchOptions {
  /**
   * Explicit exceptions to the SSRF guard (hostnames or IPs), empty by
   * default. Tests allow '127.0.0.1' here to reach a local fake.
   */
  allowHosts?: readonly string[];
  /** Largest body accepted, bytes (default 2 MiB). */
  maxBytes?: number;
  /** Whole-exchange budget, ms (default 15 s; the call's own deadline also applies). */
  timeoutMs?: number;
  maxRedirects?: number;
  resolver?: Resolver;
}

const TEXTUAL = /^(?:text\/|application\/(?:json|xml|xhtml\+xml|javascript|ld\+json|rss\+xml|atom\+xml))/i;

/** Crude HTML to text: enough to keep markup and scripts out of the model's context. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style|noscript|template)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(?:br|\/p|\/div|\/li|\/h[1-6]|\/tr)\b[^>]*>/gi, '\n')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/[ \t\r\f\v]+/g, ' ')
    .replace(/\s*\n\s*/g, '\n')
    .trim();
}

export function webFetchTool(options: WebFetchOptions = {}): ToolDefinition {
  return {
    name: 'web_fetch',
    description: 'Fetch a public http(s) URL and return its text. Internal and private addresses are refused.',
    parameters: {
      type: 'object',
      properties: { url: { type: 'string', minLength: 8, maxLength: 2048 } },
      required: ['url'],
      additionalProperties: false,
    },
    readOnly: true,
    group: 'web',
    async run(args, ctx) {
      const url = args.url as string;
      let res;
      try {
        res = await safeFetch(url, {
          allowHosts: options.allowHosts ?? [],
          maxBytes: options.maxBytes ?? 2 * 1024 * 1024,
          timeoutMs: Math.min(options.timeoutMs ?? 15_000, ctx.timeoutMs),
          maxRedirects: options.maxRedirects,
          resolver: options.resolver,
          signal: ctx.signal,
          // The tool call's trace goes along (W3C traceparent), when tracing is on.
          headers: { accept: 'text/html, text/plain, application/json;q=0.9, */*;q=0.5', ...traceHeaders() },
        });
      } catch (err) {
        throw toToolError(err, 'web_fetch');
      }
      const type = String(res.headers['content-type'] ?? '');
      if (type !== '' && !TEXTUAL.test(type)) {
        throw new ToolError('INVALID_REQUEST', 'unsupported_content', `${res.finalUrl} returned ${type}, not text`);
      }
      const text = /html/i.test(type) ? htmlToText(res.body) : res.body;
      const data = { status: res.status, finalUrl: res.finalUrl, contentType: type };
      return { content: `HTTP ${res.status} ${res.finalUrl}\n\n${text}`, isError: res.status >= 400, untrusted: true, data };
    },
  };
}
