/**
 * One HTTP request/response on uWS, made safe for async code. uWS rules:
 * an HttpResponse whose handler returns before answering MUST have onAborted
 * registered, must not be touched after abort or after it ended, and writes
 * from async code must be corked. This class is the only place that holds a
 * raw HttpResponse after the handler returns, and enforces those rules.
 *
 * A streamed response's head and chunks are gathered until the current
 * microtask queue drains and go out in one corked write, so events that
 * arrive together (a batch from a worker) cost one send, not one each; the
 * last chunks ride with the end.
 */
import { STATUS_CODES } from 'node:http';
import type { HttpResponse } from 'uWebSockets.js';
import { ERROR_CATALOGUE, TroupeError, toWireError, type WireError } from './errors.js';
import type { GatewayMetrics } from './metrics.js';

export type Headers = Record<string, string>;

function statusLine(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
}

/** Our HTTP error body, in OpenAI's shape so its SDKs surface it; `code` is the catalogue code. */
export function httpErrorBody(e: WireError): { error: Record<string, unknown> } {
  const body: Record<string, unknown> = {
    message: e.message,
    type: ERROR_CATALOGUE[e.code].openaiType,
    code: e.code,
    param: e.field ?? null,
  };
  if (e.reason !== undefined) body.reason = e.reason;
  if (e.retryAfterMs !== undefined) body.retryAfterMs = e.retryAfterMs;
  return { error: body };
}

/** Headers a wire error implies, e.g. Retry-After (whole seconds, rounded up) on 429/503. */
export function errorHeaders(e: WireError): Headers {
  return e.retryAfterMs === undefined ? {} : { 'retry-after': String(Math.max(1, Math.ceil(e.retryAfterMs / 1000))) };
}

export class HttpExchange {
  /** The client's address, for limits and audit. */
  ip = '';
  private aborted = false;
  private ended = false;
  /** The head is committed (sent, or waiting in `head` for the next flush). */
  private headWritten = false;
  private head: [number, Headers] | undefined;
  private pending = '';
  private flushQueued = false;
  /** uWS had to buffer the last flush: the client reads slower than we write. */
  private buffered = false;
  private readonly abortHandlers: (() => void)[] = [];

  constructor(
    private readonly res: HttpResponse,
    private readonly metrics: GatewayMetrics,
    private readonly live?: Set<HttpExchange>,
  ) {
    res.onAborted(() => {
      this.aborted = true;
      this.live?.delete(this);
      for (const fn of this.abortHandlers.splice(0)) fn();
    });
    live?.add(this);
  }

  /** True while we may still write. */
  get open(): boolean {
    return !this.aborted && !this.ended;
  }

  get streaming(): boolean {
    return this.headWritten && this.open;
  }

  /** Runs when the client goes away before we answered. */
  onAbort(fn: () => void): void {
    if (this.aborted) fn();
    else this.abortHandlers.push(fn);
  }

  /** Reads the whole body, failing with PAYLOAD_TOO_LARGE past `limit` bytes. */
  readBody(limit: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let failed = false;
      this.onAbort(() => reject(new TroupeError('INVALID_REQUEST', 'Client went away', { reason: 'client_aborted' })));
      this.res.onData((chunk, isLast) => {
        if (failed) return;
        size += chunk.byteLength;
        if (size > limit) {
          failed = true;
          reject(new TroupeError('PAYLOAD_TOO_LARGE', `Body exceeds ${limit} bytes`, { reason: 'body_too_large' }));
          return;
        }
        // uWS neuters the chunk after this callback: copy it.
        chunks.push(Buffer.from(new Uint8Array(chunk)));
        if (isLast) resolve(Buffer.concat(chunks, size));
      });
    });
  }

  json(status: number, body: unknown, headers: Headers = {}, closeConnection = false): void {
    this.end(status, { 'content-type': 'application/json', ...headers }, JSON.stringify(body), closeConnection);
  }

  /** Answers with the catalogue's status and body for any thrown value. */
  fail(err: unknown): WireError {
    const e = toWireError(err);
    this.metrics.errors.inc({ transport: 'http', code: e.code });
    if (this.streaming) {
      // Headers are gone; OpenAI streams report errors as a data event.
      this.write(`data: ${JSON.stringify(httpErrorBody(e))}\n\n`);
      this.end(200, {}, '');
    } else {
      // Closing after 413 stops a client from pushing the rest of a huge body at us.
      this.json(ERROR_CATALOGUE[e.code].httpStatus, httpErrorBody(e), errorHeaders(e), e.code === 'PAYLOAD_TOO_LARGE');
    }
    return e;
  }

  end(status: number, headers: Headers, body: string, closeConnection = false): void {
    if (!this.open) return;
    this.ended = true;
    this.live?.delete(this);
    const pending = this.pending;
    this.pending = '';
    this.res.cork(() => {
      if (!this.headWritten) this.writeHead(status, headers);
      else this.writeHeldHead();
      this.res.end(pending + body, closeConnection);
    });
  }

  /** Starts a streamed (chunked) response; the head leaves with the first flush. */
  startStream(status: number, headers: Headers): void {
    if (!this.open || this.headWritten) return;
    this.headWritten = true;
    this.head = [status, headers];
    this.queueFlush();
  }

  /**
   * Queues a chunk for this turn's flush; false while uWS is buffering what
   * was flushed before (the client reads slower than we write).
   */
  write(chunk: string): boolean {
    if (!this.open) return false;
    this.pending += chunk;
    this.queueFlush();
    return !this.buffered;
  }

  /** Registers uWS's writable callback (backpressure relief). */
  onWritable(fn: () => void): void {
    if (!this.open) return;
    this.res.onWritable(() => {
      this.buffered = false;
      fn();
      return true;
    });
  }

  /** Drops the connection without a response (shutdown past its deadline). */
  close(): void {
    if (!this.open) return;
    this.ended = true;
    this.pending = '';
    this.live?.delete(this);
    this.res.close();
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(this.flush);
  }

  private readonly flush = (): void => {
    this.flushQueued = false;
    if (!this.open || (this.head === undefined && this.pending === '')) return;
    const pending = this.pending;
    this.pending = '';
    this.res.cork(() => {
      this.writeHeldHead();
      if (pending !== '') this.buffered = !this.res.write(pending);
    });
  };

  private writeHeldHead(): void {
    const head = this.head;
    if (head === undefined) return;
    this.head = undefined;
    this.writeHead(head[0], head[1]);
  }

  private writeHead(status: number, headers: Headers): void {
    this.headWritten = true;
    this.res.writeStatus(statusLine(status));
    for (const [k, v] of Object.entries(headers)) this.res.writeHeader(k, v);
  }
}
