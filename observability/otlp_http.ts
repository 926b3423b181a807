/**
 * One OTLP/HTTP POST of an encoded batch, on a keep-alive connection, under
 * a deadline. Resolves true when the collector accepted it (2xx) and the
 * body has been handed to the socket whole (so its memory may be reused),
 * false otherwise (refused, unreachable, too slow); it never rejects. The
 * response body is read and dropped (a partial-success body is not parsed).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface OtlpPost {
  (body: Uint8Array): Promise<boolean>;
  /** Closes the kept-alive connection. */
  close(): void;
}

export function otlpPost(url: string, contentType: string, headers: Record<string, string>, timeoutMs: number): OtlpPost {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  // One export is in flight at a time per thread (span_batch.ts), so one socket is enough.
  const agent = secure ? new HttpsAgent({ keepAlive: true, maxSockets: 1 }) : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  const request = secure ? httpsRequest : httpRequest;
  const base = { ...headers, 'content-type': contentType };
  const post = (body: Uint8Array): Promise<boolean> => new Promise<boolean>((resolve) => {
    let done = false;
    const settle = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      resolve(ok);
    };
    // A collector may answer before it has read the whole body: a 2xx counts once the body is written too.
    let written = false;
    let accepted: boolean | undefined;
    const req = request(target, { method: 'POST', agent, headers: { ...base, 'content-length': body.byteLength } }, (res: IncomingMessage) => {
      res.on('error', () => settle(false));
      res.on('end', () => {
        accepted = res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300;
        if (!accepted || written) settle(accepted);
      });
      res.resume();
    });
    req.on('finish', () => {
      written = true;
      if (accepted !== undefined) settle(accepted);
    });
    const deadline = setTimeout(() => {
      settle(false);
      req.destroy();
    }, timeoutMs);
    deadline.unref();
    req.on('error', () => settle(false));
    req.end(body);
  });
  return Object.assign(post, { close: () => agent.destroy() });
}
