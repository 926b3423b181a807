// The common half of every fake upstream: an HTTP server on 127.0.0.1 that
// records what the SDK sent, takes the next scripted reply, and writes the
// frames a protocol renders with the scripted pacing, cut or error status.
// Subclasses only translate a ScriptedReply into their wire format.

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { parseArgv } from '../../gateway/argv.js';
import { DEFAULT_REPLY, type ScriptedReply } from './script.js';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
}

/** What a protocol makes of one reply: a stream of frames or a single body. */
export interface Rendered {
  readonly status: number;
  readonly contentType: string;
  readonly frames?: readonly string[];
  readonly body?: string;
  readonly headers?: { readonly [name: string]: string };
}

const MAX_BODY_BYTES = 8 * 1024 * 1024;
const MAX_RECORDED = 1000;

export interface FakeOptions {
  readonly defaultReply?: ScriptedReply;
  /** Off for long-running use (benchmarks), where nobody reads the log. */
  readonly record?: boolean;
}

export abstract class FakeUpstream {
  readonly requests: RecordedRequest[] = [];
  /** Responses the client walked away from before they were complete. */
  clientAborts = 0;
  /** TCP connections clients opened (keep-alive reuse shows as fewer than requests). */
  connectionsOpened = 0;
  /**
   * When each response began and ended, in the order it happened: `start N` /
   * `end N`, N the request's arrival number from 0 (`end` also when the
   * response was cut or the client left). Shows which requests overlapped.
   */
  readonly timeline: string[] = [];
  private arrivals = 0;
  private readonly queue: ScriptedReply[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private readonly defaultReply: ScriptedReply;
  private readonly record: boolean;
  private abortWaiters: Array<() => void> = [];

  constructor(options: FakeOptions = {}) {
    this.defaultReply = options.defaultReply ?? DEFAULT_REPLY;
    this.record = options.record ?? true;
    this.server = createServer((req, res) => {
      this.onRequest(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      this.connectionsOpened++;
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Turns one reply into this protocol's response; undefined means 404. */
  protected abstract render(url: string, body: unknown, reply: ScriptedReply): Rendered | undefined;

  script(...replies: ScriptedReply[]): this {
    this.queue.push(...replies);
    return this;
  }

  async start(port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.port;
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('fake upstream is not listening');
    return address.port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get lastRequest(): RecordedRequest {
    const last = this.requests[this.requests.length - 1];
    if (!last) throw new Error('the fake upstream has received no request');
    return last;
  }

  /** Resolves once a client has closed a response before its end. */
  waitForClientAbort(): Promise<void> {
    if (this.clientAborts > 0) return Promise.resolve();
    return new Promise((resolve) => this.abortWaiters.push(resolve));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const n = this.arrivals++;
    if (this.record) {
      if (this.timeline.length >= 2 * MAX_RECORDED) this.timeline.splice(0, 2);
      this.timeline.push(`start ${n}`);
      res.once('close', () => this.timeline.push(`end ${n}`));
    }
    const raw = await readBody(req);
    let body: unknown = undefined;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'body is not JSON' } }));
        return;
      }
    }
    const url = req.url ?? '/';
    if (this.record) {
      if (this.requests.length >= MAX_RECORDED) this.requests.shift();
      this.requests.push({ method: req.method ?? 'GET', url, headers: req.headers, body });
    }
    const reply = this.queue.shift() ?? this.defaultReply;
    const rendered = this.render(url, body, reply);
    if (!rendered) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route for ${url}` } }));
      return;
    }
    const headers: Record<string, string> = { 'content-type': rendered.contentType, ...rendered.headers };
    if (reply.retryAfter !== undefined) headers['retry-after'] = reply.retryAfter;
    if (rendered.frames === undefined) {
      res.writeHead(rendered.status, headers);
      res.end(rendered.body ?? '');
      return;
    }
    await this.writeFrames(res, headers, rendered.frames, reply);
  }

  private async writeFrames(
    res: ServerResponse,
    headers: Record<string, string>,
    frames: readonly string[],
    reply: ScriptedReply,
  ): Promise<void> {
    let cutOnPurpose = false;
    res.on('close', () => {
      if (res.writableEnded || cutOnPurpose) return;
      this.clientAborts++;
      const waiters = this.abortWaiters;
      this.abortWaiters = [];
      for (const wake of waiters) wake();
    });
    res.writeHead(200, { ...headers, 'cache-control': 'no-cache' });
    res.flushHeaders();
    const limit = reply.cutAfterChunks ?? frames.length;
    for (let i = 0; i < frames.length && i < limit; i++) {
      if (i > 0 && reply.delayMsPerChunk) await sleep(reply.delayMsPerChunk);
      if (i === 1 && reply.holdAfterFirst !== undefined) await reply.holdAfterFirst;
      if (res.destroyed) return;
      res.write(frames[i]);
    }
    if (limit < frames.length && reply.cutMode === 'destroy') {
      cutOnPurpose = true;
      // Let the written frames leave before the reset, as a dying upstream would.
      await sleep(20);
      res.socket?.destroy();
      return;
    }
    res.end();
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large for the fake upstream'));
        req.destroy();
        return;
      }
      parts.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads `[--port N]` (the arguments after the script) for the fakes that can run as their own process. */
export function portFromArgs(args: readonly string[]): number {
  const raw = parseArgv(args, { port: { type: 'string' } }).values.port;
  if (raw === undefined) return 0;
  const port = Number(raw);
  if (raw === '' || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${raw}`);
  return port;
}
