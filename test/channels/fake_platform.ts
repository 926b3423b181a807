// The common half of every fake chat platform: an HTTP API on 127.0.0.1 that
// records each call the real SDK makes, answers from the subclass, and can be
// scripted to fail (a 429 with its retry hint, a 5xx, or "down" for every
// call until brought back). Reused by every platform's fake.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface PlatformCall {
  /** The API method (sendMessage, chat.postMessage, …). */
  method: string;
  params: Record<string, unknown>;
  headers: IncomingMessage['headers'];
}

export interface FakeAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const MAX_BODY = 8 * 1024 * 1024;

export abstract class FakePlatform {
  readonly calls: PlatformCall[] = [];
  /** While true, every API call answers 502 (the platform is down). */
  down = false;
  #failures: { method: string; answer: FakeAnswer }[] = [];
  #waiters = new Set<() => void>();
  #sockets = new Set<Socket>();
  #server: Server;
  url = '';

  constructor() {
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
    });
    this.#server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  async start(): Promise<string> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** The next `times` calls of `method` get `answer` instead of the normal one. */
  failNext(method: string, answer: FakeAnswer, times = 1): void {
    for (let i = 0; i < times; i++) this.#failures.push({ method, answer });
  }

  callsOf(method: string): PlatformCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Resolves once `ready()` holds, re-checked after every call (bounded: rejects after `timeoutMs`). */
  async waitFor(what: string, ready: () => boolean, timeoutMs = 20_000): Promise<void> {
    if (ready()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; calls: ${this.calls.map((c) => c.method).join(', ')}`));
      }, timeoutMs);
      const check = () => {
        if (!ready()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
    });
  }

  /** The API method and caller credential of a request, or undefined for an unknown path. */
  protected abstract parsePath(req: IncomingMessage): { method: string; credential: string } | undefined;
  /** The platform's normal answer. */
  protected abstract answer(call: PlatformCall, credential: string): FakeAnswer | Promise<FakeAnswer>;

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) throw new Error('body too large');
      chunks.push(c as Buffer);
    }
    const route = this.parsePath(req);
    if (route === undefined) {
      res.writeHead(404).end();
      return;
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    const type = req.headers['content-type'] ?? '';
    let params: Record<string, unknown> = {};
    if (raw.length > 0) {
      params = type.includes('json') ? JSON.parse(raw) as Record<string, unknown> : Object.fromEntries(new URLSearchParams(raw));
    }
    const call: PlatformCall = { method: route.method, params, headers: req.headers };
    this.calls.push(call);
    let answer: FakeAnswer;
    const failure = this.#failures.findIndex((f) => f.method === route.method);
    if (this.down) answer = { status: 502, body: 'Bad Gateway' };
    else if (failure >= 0) answer = this.#failures.splice(failure, 1)[0].answer;
    else answer = await this.answer(call, route.credential);
    const body = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'content-type': typeof answer.body === 'string' ? 'text/plain' : 'application/json', ...answer.headers });
    res.end(body);
    for (const w of [...this.#waiters]) w();
  }
}
