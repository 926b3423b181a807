/**
 * Outbound `traceparent` for the platform SDKs that build their own HTTP
 * requests and take no headers per call:
 *
 *   Slack    @slack/web-api 8 WebClient ── `fetch` option ──► tracedFetch(globalThis.fetch)
 *   Telegram grammY Api on node-fetch   ── baseFetchConfig.agent ──► TraceAgents.pick(url)
 *
 * (Discord's REST client and Feishu's SDK take headers per call; WhatsApp and
 * Zalo use wire.ts's JsonClient.) Both hooks read the current span when the
 * request is made: the channel.send / channel.edit span the call runs in.
 * Adapters install them only when tracing has started, so a gateway without
 * tracing builds its SDK clients exactly as before and pays nothing.
 */
import { Agent as HttpAgent, type AgentOptions, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { currentTraceparent } from '../../observability/tracing.js';

/**
 * `fetchFn` with the current span's `traceparent` added to the request's
 * headers (a plain object, as WebClient passes them); a `traceparent` the
 * caller set wins. Outside a span it is `fetchFn` unchanged.
 */
export function tracedFetch<R>(fetchFn: (url: string | URL, init?: FetchInit) => R): (url: string | URL, init?: FetchInit) => R {
  return (url, init) => {
    const traceparent = currentTraceparent();
    if (traceparent === undefined) return fetchFn(url, init);
    return fetchFn(url, { ...init, headers: { traceparent, ...init?.headers } });
  };
}

/** What tracedFetch needs of a request's options: headers as a plain object. */
interface FetchInit {
  headers?: Record<string, string>;
}

type AddRequest = (req: ClientRequest, options: unknown) => void;

/**
 * Node's ClientRequest hands itself to its agent (`addRequest`) in its
 * constructor, after the caller's headers are set and before any is written,
 * and synchronously, so the active context is still the caller's.
 */
function addTraceparent(req: ClientRequest): void {
  const traceparent = currentTraceparent();
  if (traceparent !== undefined && !req.headersSent && !req.hasHeader('traceparent')) req.setHeader('traceparent', traceparent);
}

const httpAddRequest = (HttpAgent.prototype as unknown as { addRequest: AddRequest }).addRequest;
const httpsAddRequest = (HttpsAgent.prototype as unknown as { addRequest: AddRequest }).addRequest;

class TraceHttpAgent extends HttpAgent {
  addRequest(req: ClientRequest, options: unknown): void {
    addTraceparent(req);
    httpAddRequest.call(this, req, options);
  }
}

class TraceHttpsAgent extends HttpsAgent {
  addRequest(req: ClientRequest, options: unknown): void {
    addTraceparent(req);
    httpsAddRequest.call(this, req, options);
  }
}

/**
 * One client's keep-alive agents (as grammY's own defaults) that stamp each
 * request with the current `traceparent`; node-fetch's `agent` option takes
 * `pick`, which chooses by the URL's protocol.
 */
export class TraceAgents {
  readonly #http: TraceHttpAgent;
  readonly #https: TraceHttpsAgent;

  constructor(options: AgentOptions = { keepAlive: true }) {
    this.#http = new TraceHttpAgent(options);
    this.#https = new TraceHttpsAgent(options);
  }

  readonly pick = (url: URL): HttpAgent => (url.protocol === 'https:' ? this.#https : this.#http);

  destroy(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}
