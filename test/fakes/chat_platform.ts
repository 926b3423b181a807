// The common half of every fake chat platform: an HTTP server on 127.0.0.1
// that records what the bot sent (messages and their edits), answers with the
// platform's JSON, and can be told to fail the next calls (429 with the
// platform's retry hint, 5xx while "down"). Subclasses route one platform's API.

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Socket } from 'node:net';

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

  constructor(options: { record?: boolean } = {}) {
    this.record = options.record ?? true;
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY_BYTES) chunks.push(c);
      });
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: unknown = raw;
        try {
          body = raw ? JSON.parse(raw) : undefined;
        } catch {
          // not JSON: keep the text
        }
        const fr: FakeRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body };
        if (this.record && this.requests.length < MAX_RECORDED) this.requests.push(fr);
        Promise.resolve()
          .then(() => (this.faultable(fr) && this.faults.length > 0 ? (this.faults.shift() as Fault) : this.route(fr)))
          .then((out) => {
            res.writeHead(out.status, { 'content-type': 'application/json', ...(out.headers ?? {}) });
            res.end(out.body === undefined ? '' : JSON.stringify(out.body));
          })
          .catch((err: unknown) => {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(String(err));
          });
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
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

  get port(): number {
    const addr = this.server.address();
    return addr !== null && typeof addr !== 'string' ? addr.port : 0;
  }

  async stop(): Promise<void> {
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

  /** Resolves when `test` holds (checked after every post and edit). */
  waitFor(test: () => boolean, timeoutMs = 20_000): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { test, resolve };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`fake ${this.constructor.name}: condition not met in ${timeoutMs} ms`));
      }, timeoutMs);
      waiter.resolve = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(waiter);
    });
  }

  /** The bot's messages in one chat (and thread). */
  inChat(chatId: string, threadId?: string): PostedMessage[] {
    return this.posted.filter((m) => m.chatId === chatId && (threadId === undefined || m.threadId === threadId));
  }

  protected wake(): void {
    const ready = this.waiters.filter((w) => w.test());
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
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
