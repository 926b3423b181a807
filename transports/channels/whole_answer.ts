/**
 * One HTTP call on undici's dispatcher, answered whole: status, raw headers
 * and the body as one Buffer, bounded. What the channels' clients need (the
 * SDKs' `fetch` in sdk_fetch.ts, the thin adapters' JsonClient in wire.ts):
 * every platform answer they read is a small JSON document.
 *
 *   dispatch(opts, handler) ─► onHeaders (status, raw headers) ─► onData… (chunks) ─► onComplete ─► resolve
 *
 * Why not `Dispatcher.request`: it hands the body over as a Readable stream
 * and wraps each call in an AsyncResource, which cost more per call than the
 * rest of reading a small answer. The handler gathers the chunks itself.
 */
import type { Dispatcher } from 'undici';
import { util } from 'undici';

export interface WholeAnswer {
  status: number;
  /** Header names and values, alternating, as they came off the wire. */
  rawHeaders: Buffer[];
  body: Buffer;
}

/** The request fields the channels' clients send. */
export interface WholeRequest {
  origin: string;
  path: string;
  method: Dispatcher.HttpMethod;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Rejects with an Error (a network failure, a timeout, an abort, or an answer larger than `maxBytes`). */
export function requestWhole(dispatcher: Dispatcher, req: WholeRequest, maxBytes: number): Promise<WholeAnswer> {
  return new Promise((resolve, reject) => {
    const { signal } = req;
    if (signal?.aborted === true) {
      reject(abortReason(signal));
      return;
    }
    let abort: ((err?: Error) => void) | undefined;
    let abortedEarly = false;
    const onAbort = () => {
      if (abort === undefined) abortedEarly = true;
      else abort(abortReason(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = () => signal?.removeEventListener('abort', onAbort);
    let status = 0;
    let rawHeaders: Buffer[] = [];
    const chunks: Buffer[] = [];
    let size = 0;
    const handler: Dispatcher.DispatchHandlers = {
      onConnect(abortCall) {
        abort = abortCall;
        if (abortedEarly) abortCall(abortReason(signal));
      },
      onHeaders(statusCode, headers) {
        status = statusCode;
        rawHeaders = headers;
        return true;
      },
      onData(chunk) {
        size += chunk.length;
        if (size > maxBytes) {
          abort?.(new Error(`answer larger than ${maxBytes} bytes`));
          return false;
        }
        chunks.push(chunk);
        return true;
      },
      onComplete() {
        settle();
        resolve({ status, rawHeaders, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size) });
      },
      onError(err) {
        settle();
        reject(err);
      },
    };
    try {
      dispatcher.dispatch({
        origin: req.origin,
        path: req.path,
        method: req.method,
        headers: req.headers,
        body: req.body ?? null,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
      }, handler);
    } catch (err) {
      settle();
      reject(err as Error);
    }
  });
}

/** Raw headers as an object (repeated names become arrays), as `Dispatcher.request` gives them. */
export function parseRawHeaders(raw: Buffer[]): Record<string, string | string[]> {
  return util.parseHeaders(raw) as Record<string, string | string[]>;
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error('the request was aborted');
}
