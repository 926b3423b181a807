/**
 * safeFetch: an HTTP(S) client for URLs that came from users, models or tools.
 *
 *   URL ─► scheme check ─► host check ─► DNS (once) ─► every address checked
 *       ─► connect to the checked address (pinned via `lookup`) ─► redirect? ─► repeat
 *
 * Pinning is what stops DNS rebinding: the name is resolved once, and the socket goes to the
 * address that passed the check even if the name would resolve differently a moment later.
 * The Host header and TLS servername still carry the original hostname.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { promises as dns } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { SsrfError } from './errors.js';
import { classifyAddress, classifyHostname, isIpLiteral, normalizeHostname } from './ssrf.js';
import type { AddressVerdict } from './ssrf.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface SafeFetchOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Redirects followed, each re-checked. Default 5. */
  maxRedirects?: number;
  /** Largest response body accepted, bytes. Default 5 MiB. */
  maxBytes?: number;
  /** Budget for the whole exchange including redirects, ms. Default 10 000. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** DNS resolver; default `dns.lookup` with all addresses. */
  resolver?: Resolver;
  /**
   * Explicit exceptions, empty by default. A hostname entry permits that name whatever it
   * resolves to; an IP entry permits that address under any name.
   */
  allowHosts?: readonly string[];
  /** Permit private, loopback and other internal ranges (never metadata). Default false. */
  allowPrivate?: boolean;
  responseType?: 'text' | 'buffer';
  /** Extra trusted CA certificates (PEM) for https, e.g. a private CA. Default: Node's store. */
  ca?: string | Buffer | Array<string | Buffer>;
}

export interface SafeFetchResponse<B extends string | Buffer> {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: B;
  finalUrl: string;
}

export const SAFE_FETCH_DEFAULTS = { maxRedirects: 5, maxBytes: 5 * 1024 * 1024, timeoutMs: 10_000, maxAddresses: 32 } as const;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

const defaultResolver: Resolver = async (hostname) => {
  const found = await dns.lookup(hostname, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

interface Policy {
  hosts: Set<string>;
  addresses: Set<string>;
  allowPrivate: boolean;
}

function policyOf(opts: SafeFetchOptions): Policy {
  const hosts = new Set<string>();
  const addresses = new Set<string>();
  for (const entry of opts.allowHosts ?? []) {
    const verdict = classifyHostname(entry);
    if (verdict?.address !== undefined) addresses.add(verdict.address);
    else hosts.add(normalizeHostname(entry));
  }
  return { hosts, addresses, allowPrivate: opts.allowPrivate === true };
}

function permitted(policy: Policy, hostname: string, verdict: AddressVerdict): boolean {
  if (!verdict.blocked) return true;
  if (policy.hosts.has(hostname)) return true;
  if (verdict.address !== undefined && policy.addresses.has(verdict.address)) return true;
  return policy.allowPrivate && verdict.reason !== 'metadata' && verdict.reason !== 'invalid';
}

function forbidden(hostname: string, verdict: AddressVerdict): SsrfError {
  return new SsrfError('FORBIDDEN', verdict.reason ?? 'blocked', `request to ${hostname} blocked: ${verdict.reason ?? 'blocked'} address`);
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Checks one hop and returns the single address the connection must use. */
async function pinnedAddress(url: URL, policy: Policy, resolver: Resolver, signal: AbortSignal): Promise<ResolvedAddress> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SsrfError('FORBIDDEN', 'scheme', `scheme ${url.protocol} is not allowed`);
  }
  const hostname = normalizeHostname(url.hostname.replace(/^\[|\]$/g, ''));
  const early = classifyHostname(hostname);
  if (early !== null) {
    if (!permitted(policy, hostname, early)) throw forbidden(hostname, early);
    if (early.address !== undefined) return { address: hostname, family: early.family ?? 4 };
  }
  let found: ResolvedAddress[];
  try {
    found = await raceAbort(resolver(hostname), signal);
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw new SsrfError('UNAVAILABLE', 'dns_failed', `cannot resolve ${hostname}: ${(err as Error).message}`);
  }
  if (found.length === 0) throw new SsrfError('UNAVAILABLE', 'dns_failed', `${hostname} has no addresses`);
  if (found.length > SAFE_FETCH_DEFAULTS.maxAddresses) {
    throw new SsrfError('FORBIDDEN', 'too_many_addresses', `${hostname} resolves to too many addresses`);
  }
  // A name with one bad address among good ones is refused outright: any of them could be used.
  const verdicts = found.map((entry) => classifyAddress(entry.address));
  const refused = verdicts.find((verdict) => !permitted(policy, hostname, verdict));
  if (refused !== undefined) throw forbidden(hostname, refused);
  return { address: found[0].address, family: verdicts[0].family ?? found[0].family };
}

function pinnedLookup(pinned: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all === true) callback(null, [{ address: pinned.address, family: pinned.family }]);
    else callback(null, pinned.address, pinned.family);
  };
}

type HopResult =
  | { kind: 'redirect'; status: number; location: string }
  | { kind: 'done'; status: number; headers: http.IncomingHttpHeaders; body: Buffer };

interface HopRequest {
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  ca?: SafeFetchOptions['ca'];
}

function sendHop(url: URL, pinned: ResolvedAddress, req: HopRequest, maxBytes: number, signal: AbortSignal): Promise<HopResult> {
  return new Promise<HopResult>((resolve, reject) => {
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const options: https.RequestOptions = {
      protocol: url.protocol,
      hostname,
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: req.method,
      headers: { 'user-agent': 'troupe-safe-fetch', ...req.headers, host: url.host },
      lookup: pinnedLookup(pinned),
      agent: false,
      signal,
    };
    if (url.protocol === 'https:' && !isIpLiteral(hostname)) options.servername = hostname;
    if (req.ca !== undefined) options.ca = req.ca;
    const fail = (err: unknown): void => {
      if (signal.aborted) reject(signal.reason);
      else if (err instanceof SsrfError) reject(err);
      else reject(new SsrfError('UNAVAILABLE', 'network_error', `request to ${url.host} failed: ${(err as Error).message}`, { cause: err }));
    };
    const request = (url.protocol === 'https:' ? https : http).request(options, (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (REDIRECTS.has(status) && typeof location === 'string') {
        res.destroy();
        resolve({ kind: 'redirect', status, location });
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        res.destroy();
        reject(new SsrfError('PAYLOAD_TOO_LARGE', 'response_too_large', `response declares ${declared} bytes, limit ${maxBytes}`));
        return;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      res.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > maxBytes) {
          res.destroy(new SsrfError('PAYLOAD_TOO_LARGE', 'response_too_large', `response exceeds ${maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('close', () => {
        if (!res.complete) fail(new SsrfError('UNAVAILABLE', 'connection_closed', 'connection closed before the response ended'));
      });
      res.on('end', () => resolve({ kind: 'done', status, headers: res.headers, body: Buffer.concat(chunks, total) }));
    });
    request.on('error', fail);
    request.end(req.body);
  });
}

export function safeFetch(url: string | URL, opts: SafeFetchOptions & { responseType: 'buffer' }): Promise<SafeFetchResponse<Buffer>>;
export function safeFetch(url: string | URL, opts?: SafeFetchOptions & { responseType?: 'text' }): Promise<SafeFetchResponse<string>>;
export async function safeFetch(url: string | URL, opts: SafeFetchOptions = {}): Promise<SafeFetchResponse<string | Buffer>> {
  const maxRedirects = opts.maxRedirects ?? SAFE_FETCH_DEFAULTS.maxRedirects;
  const maxBytes = opts.maxBytes ?? SAFE_FETCH_DEFAULTS.maxBytes;
  const timeoutMs = opts.timeoutMs ?? SAFE_FETCH_DEFAULTS.timeoutMs;
  const resolver = opts.resolver ?? defaultResolver;
  const policy = policyOf(opts);

  let current: URL;
  try {
    current = new URL(url);
  } catch {
    throw new SsrfError('INVALID_REQUEST', 'bad_url', 'not a valid absolute URL');
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new SsrfError('TIMEOUT', 'timeout', `request exceeded ${timeoutMs} ms`)), timeoutMs);
  const onCallerAbort = (): void => controller.abort(opts.signal?.reason);
  if (opts.signal?.aborted === true) onCallerAbort();
  opts.signal?.addEventListener('abort', onCallerAbort, { once: true });

  let hop: HopRequest = { method: (opts.method ?? 'GET').toUpperCase(), headers: { ...opts.headers }, body: opts.body, ca: opts.ca };
  try {
    for (let redirects = 0; ; redirects++) {
      if (controller.signal.aborted) throw controller.signal.reason;
      const pinned = await pinnedAddress(current, policy, resolver, controller.signal);
      const result = await sendHop(current, pinned, hop, maxBytes, controller.signal);
      if (result.kind === 'done') {
        const body = opts.responseType === 'buffer' ? result.body : result.body.toString('utf8');
        return { status: result.status, headers: result.headers, body, finalUrl: current.href };
      }
      if (redirects >= maxRedirects) throw new SsrfError('FORBIDDEN', 'too_many_redirects', `more than ${maxRedirects} redirects`);
      const next = new URL(result.location, current);
      if (result.status === 303 || ((result.status === 301 || result.status === 302) && hop.method === 'POST')) {
        hop = { method: 'GET', headers: hop.headers, ca: hop.ca };
      }
      if (next.origin !== current.origin) {
        const headers = { ...hop.headers };
        for (const name of Object.keys(headers)) if (CREDENTIAL_HEADERS.includes(name.toLowerCase())) delete headers[name];
        hop = { ...hop, headers };
      }
      current = next;
    }
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onCallerAbort);
  }
}
