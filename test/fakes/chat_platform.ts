// The common half of every fake chat platform: an HTTP server on 127.0.0.1
// that records each API call and what the bot sent (messages and their edits),
// answers with the platform's JSON, and can be told to fail the next sends (429
// with the platform's retry hint, a 5xx) or every call while `down`.
// Subclasses route one platform's API. With `record: false` (benchmarks) it
// keeps no history, only the `onPost` hook. With `front: 'uws'` (benchmarks)
// the same routes are served by uWebSockets.js instead of node:http, which
// costs `troupe bench channel`'s harness less of the cores it shares with the
// gateway it measures (bench/channel/run.ts).

import { createServer, STATUS_CODES, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { us_listen_socket } from 'uWebSockets.js';

/** How a fake is built: `record: false` keeps no history; `front: 'uws'` serves it from uWebSockets.js (not Discord's gateway). */
export interface FakeOptions {
  record?: boolean;
  front?: 'node' | 'uws';
}

export interface FakeRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
}

export interface FakeResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** One API call as a test reads it: the method (last path segment) and its JSON or form parameters. */
export interface PlatformCall {
  readonly method: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly headers: IncomingHttpHeaders;
}

/** One message the bot posted, with every later edit of its text. */
export interface PostedMessage {
  readonly id: string;
  readonly chatId: string;
  readonly threadId?: string;
  readonly replyTo?: string;
  text: string;
  readonly edits: string[];
  /** performance.now() when it was posted / last edited. */
  readonly postedAt: number;
  editedAt?: number;
}

export type Fault = FakeResponse;
type Waiter = { test: () => boolean; resolve: () => void };

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_RECORDED = 10_000;

export abstract class ChatPlatformFake {
  readonly requests: FakeRequest[] = [];
  readonly posted: PostedMessage[] = [];
  /** Called on every post and edit (benchmarks time replies here). */
  onPost?: (m: PostedMessage, kind: 'post' | 'edit') => void;
  private readonly byId = new Map<string, PostedMessage>();
  private readonly faults: Fault[] = [];
  private waiters: Waiter[] = [];
  private nextId = 1;
  protected readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly record: boolean;
  private readonly front: 'node' | 'uws';
  private uws: { socket: us_listen_socket; port: number; close: (s: us_listen_socket) => void } | undefined;
  /** While true, every API call answers 502 (the platform is down). */
  down = false;

  constructor(options: FakeOptions = {}) {
    this.record = options.record ?? true;
    this.front = options.front ?? 'node';
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY_BYTES) chunks.push(c);
      });
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const fr: FakeRequest = {
          method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers,
          body: parseBody(Buffer.concat(chunks).toString('utf8'), header(req.headers, 'content-type')),
        };
        void this.answer(fr).then((out) => {
          res.writeHead(out.status, out.headers);
          res.end(out.body);
        });
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Records a call and answers it (down, a scripted fault, or the platform's route), whichever front received it. */
  private answer(fr: FakeRequest): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    if (this.record && this.requests.length < MAX_RECORDED) this.requests.push(fr);
    return Promise.resolve()
      .then(() => {
        if (this.down) return DOWN;
        return this.faultable(fr) && this.faults.length > 0 ? (this.faults.shift() as Fault) : this.route(fr);
      })
      .then((out) => {
        // A string body is a plain page (a proxy's 502), not the platform's JSON.
        const text = typeof out.body === 'string';
        return {
          status: out.status,
          headers: { 'content-type': text ? 'text/plain' : 'application/json', ...(out.headers ?? {}) },
          body: out.body === undefined ? '' : text ? (out.body as string) : JSON.stringify(out.body),
        };
      })
      .catch((err: unknown) => ({ status: 500, headers: { 'content-type': 'text/plain' }, body: String(err) }))
      .finally(() => this.wake());
  }

  /** Serves the fake from uWebSockets.js: the same calls, answers and records as the node:http front. */
  private async listenUws(): Promise<number> {
    const uws = (await import('uWebSockets.js')).default;
    const app = uws.App().any('/*', (res, req) => {
      const headers: IncomingHttpHeaders = {};
      req.forEach((k, v) => {
        headers[k] = v;
      });
      const method = req.getMethod().toUpperCase();
      const path = req.getUrl();
      const query = new URLSearchParams(req.getQuery() ?? '');
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      const chunks: Buffer[] = [];
      let size = 0;
      res.onData((chunk, last) => {
        size += chunk.byteLength;
        // uWS reuses the chunk's memory after this call: copy it.
        if (size <= MAX_BODY_BYTES) chunks.push(Buffer.from(chunk.slice(0)));
        if (!last) return;
        const body = parseBody(Buffer.concat(chunks).toString('utf8'), header(headers, 'content-type'));
        void this.answer({ method, path, query, headers, body }).then((out) => {
          if (aborted) return;
          res.cork(() => {
            res.writeStatus(`${out.status} ${STATUS_CODES[out.status] ?? ''}`);
            for (const [k, v] of Object.entries(out.headers)) res.writeHeader(k, v);
            res.end(out.body);
          });
        });
      });
    });
    const socket = await new Promise<us_listen_socket>((resolve, reject) => {
      app.listen('127.0.0.1', 0, (s) => (s === false ? reject(new Error('fake: uWS could not listen')) : resolve(s)));
    });
    this.uws = { socket, port: uws.us_socket_local_port(socket), close: uws.us_listen_socket_close };
    return this.uws.port;
  }

  /** Answers one API call (after auth and faults). */
  protected abstract route(req: FakeRequest): FakeResponse | Promise<FakeResponse>;

  /** Which calls the scripted faults apply to (message sends and edits by default). */
  protected abstract faultable(req: FakeRequest): boolean;

  /** The next `times` send/edit calls answer `fault` instead. */
  fail(fault: Fault, times = 1): this {
    for (let i = 0; i < times; i++) this.faults.push(fault);
    return this;
  }

  get pendingFaults(): number {
    return this.faults.length;
  }

  async start(): Promise<number> {
    if (this.front === 'uws') return this.listenUws();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port');
    return addr.port;
  }

  /** The API root, `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get port(): number {
    if (this.uws !== undefined) return this.uws.port;
    const addr = this.server.address();
    return addr !== null && typeof addr !== 'string' ? addr.port : 0;
  }

  async stop(): Promise<void> {
    if (this.uws !== undefined) {
      // Closes the listener; connections still open end with their peer (the gateway, stopped first).
      this.uws.close(this.uws.socket);
      this.uws = undefined;
      return;
    }
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  protected post(chatId: string, text: string, extra: { threadId?: string; replyTo?: string; id?: string } = {}): PostedMessage {
    const m: PostedMessage = {
      id: extra.id ?? String(this.nextId++),
      chatId,
      threadId: extra.threadId,
      replyTo: extra.replyTo,
      text,
      edits: [],
      postedAt: performance.now(),
    };
    if (this.record) this.posted.push(m);
    this.byId.set(m.id, m);
    if (this.byId.size > MAX_RECORDED) this.byId.delete(this.byId.keys().next().value as string);
    this.onPost?.(m, 'post');
    this.wake();
    return m;
  }

  protected edit(id: string, text: string): PostedMessage | undefined {
    const m = this.byId.get(id);
    if (!m) return undefined;
    m.text = text;
    m.edits.push(text);
    m.editedAt = performance.now();
    this.onPost?.(m, 'edit');
    this.wake();
    return m;
  }

  /** The recorded calls of one API method (`sendMessage`, `chat.postMessage`, …). */
  callsOf(method: string): PlatformCall[] {
    const calls: PlatformCall[] = [];
    for (const r of this.requests) {
      if (this.methodOf(r) !== method) continue;
      const params = typeof r.body === 'object' && r.body !== null ? (r.body as Record<string, unknown>) : {};
      calls.push({ method, params, headers: r.headers });
    }
    return calls;
  }

  /** The API method a request calls: its last path segment unless a platform says otherwise. */
  protected methodOf(req: FakeRequest): string {
    return req.path.slice(req.path.lastIndexOf('/') + 1);
  }

  /** The message the bot posted with this id, if still known. */
  protected message(id: string): PostedMessage | undefined {
    return this.byId.get(id);
  }

  /**
   * Resolves when `test` holds, checked after every API call, post and edit;
   * rejects after `timeoutMs`, naming `what` (and the calls seen, when recorded).
   */
  waitFor(test: () => boolean, timeoutMs?: number): Promise<void>;
  waitFor(what: string, test: () => boolean, timeoutMs?: number): Promise<void>;
  waitFor(a: string | (() => boolean), b?: (() => boolean) | number, c?: number): Promise<void> {
    const what = typeof a === 'string' ? a : 'condition';
    const test = typeof a === 'string' ? (b as () => boolean) : a;
    const timeoutMs = (typeof b === 'number' ? b : c) ?? 20_000;
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { test, resolve };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const seen = this.requests.slice(-20).map((r) => this.methodOf(r)).join(', ');
        reject(new Error(`fake ${this.constructor.name}: ${what} not met in ${timeoutMs} ms; last calls: ${seen || 'none'}`));
      }, timeoutMs);
      waiter.resolve = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(waiter);
    });
  }

  /** The bot's messages in one chat (and thread), oldest first. */
  inChat(chatId: string | number, threadId?: string): PostedMessage[] {
    const chat = String(chatId);
    return this.posted.filter((m) => m.chatId === chat && (threadId === undefined || m.threadId === threadId));
  }

  protected wake(): void {
    const ready = this.waiters.filter((w) => w.test());
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}

const DOWN: FakeResponse = { status: 502, body: 'Bad Gateway' };

/** A request body as the SDKs send it: JSON, a form (Slack's Web API), or text. */
function parseBody(raw: string, type: string): unknown {
  if (raw === '') return undefined;
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw));
  try {
    return JSON.parse(raw);
  } catch {
    return raw; // not JSON: keep the text
  }
}

/** Header value as one string. */
export function header(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

/** POSTs a raw body to a webhook URL and returns the status and text. */
export async function postWebhook(
  url: string,
  rawBody: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: rawBody });
  return { status: res.status, text: await res.text() };
}
