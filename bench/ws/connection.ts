/**
 * One load-client WebSocket speaking Troupe's JSON protocol. A request counts
 * only when its answer arrives and checks out: the response carries the
 * request's id, and a chat turn ends with `chat.final` (non-empty text) for
 * the runId the response named. Everything else is an error with a code.
 */
import WebSocket from 'ws';

export type Outcome =
  | { kind: 'ok'; ttftMs?: number }
  | { kind: 'failed' | 'retryable' | 'lost'; code: string; retryAfterMs?: number };

type Done = (outcome: Outcome) => void;

interface Pending {
  method: string;
  startedAt: number;
  done: Done;
  firstDeltaAt?: number;
}

interface Frame {
  type?: unknown;
  id?: unknown;
  ok?: unknown;
  event?: unknown;
  payload?: { runId?: unknown; text?: unknown; pong?: unknown; protocol?: unknown } | null;
  error?: { code?: unknown; retryable?: unknown; retryAfterMs?: unknown } | null;
}

export class BenchConnection {
  private ws: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly runs = new Map<string, Pending>();
  /** Frames that could not be matched to a request (a protocol bug if ever non-zero). */
  badFrames = 0;
  isOpen = false;

  constructor(
    private readonly url: string,
    /** Against an echo server the request itself comes back; accept that as the answer. */
    private readonly echo: boolean,
    private readonly onClosed: (conn: BenchConnection) => void,
  ) {}

  get inflight(): number {
    return this.pending.size + this.runs.size;
  }

  /** Opens the socket and authenticates with `connect`; rejects with a coded error. */
  open(token: string | undefined, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(this.url, { handshakeTimeout: timeoutMs, perMessageDeflate: false });
      this.ws = ws;
      const timer = setTimeout(() => fail('TIMEOUT'), timeoutMs);
      let settled = false;
      const fail = (code: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.terminate();
        reject(Object.assign(new Error(`connection failed: ${code}`), { code }));
      };
      ws.on('unexpected-response', (_req, res) => fail(`HTTP_${res.statusCode ?? 0}`));
      ws.on('error', (err: Error & { code?: string }) => fail(err.code ?? 'SOCKET_ERROR'));
      ws.on('message', (data) => this.onMessage(String(data)));
      ws.on('close', () => {
        const wasOpen = this.isOpen;
        this.isOpen = false;
        this.loseAll('closed');
        if (wasOpen) this.onClosed(this);
        fail('CLOSED');
      });
      ws.on('open', () => {
        this.isOpen = true;
        this.request('connect', token === undefined ? {} : { token, protocol: 1 }, (o) => {
          if (o.kind === 'ok') {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve();
          } else fail(o.code);
        });
      });
    });
  }

  request(method: string, params: Record<string, unknown>, done: Done, startedAt = performance.now()): void {
    if (this.ws === undefined || !this.isOpen) {
      done({ kind: 'lost', code: 'closed' });
      return;
    }
    const id = this.nextId++;
    this.pending.set(id, { method, startedAt, done });
    this.ws.send(JSON.stringify({ type: 'req', id, method, params }));
  }

  private onMessage(text: string): void {
    let f: Frame;
    try {
      f = JSON.parse(text) as Frame;
    } catch {
      this.badFrames++;
      return;
    }
    if (f.type === 'res' || (this.echo && f.type === 'req')) this.onResponse(f);
    else if (f.type === 'event') this.onEvent(f);
    else this.badFrames++;
  }

  private onResponse(f: Frame): void {
    const p = typeof f.id === 'number' ? this.pending.get(f.id) : undefined;
    if (p === undefined) {
      this.badFrames++;
      return;
    }
    this.pending.delete(f.id as number);
    if (this.echo && f.type === 'req') return p.done({ kind: 'ok' });
    if (f.ok !== true) {
      const code = typeof f.error?.code === 'string' ? f.error.code : 'verify';
      const after = f.error?.retryAfterMs;
      return p.done({ kind: f.error?.retryable === true ? 'retryable' : 'failed', code, ...(typeof after === 'number' ? { retryAfterMs: after } : {}) });
    }
    const payload = f.payload ?? {};
    if (p.method === 'chat.send') {
      if (typeof payload.runId !== 'string') return p.done({ kind: 'failed', code: 'verify' });
      this.runs.set(payload.runId, p);
      return;
    }
    if (p.method === 'ping' && payload.pong !== true) return p.done({ kind: 'failed', code: 'verify' });
    if (p.method === 'connect' && payload.protocol !== 1) return p.done({ kind: 'failed', code: 'verify' });
    p.done({ kind: 'ok' });
  }

  private onEvent(f: Frame): void {
    const runId = f.payload?.runId;
    if (typeof runId !== 'string') return;
    const p = this.runs.get(runId);
    if (p === undefined) return;
    if (f.event === 'chat.delta') {
      p.firstDeltaAt ??= performance.now();
      return;
    }
    if (f.event !== 'chat.final' && f.event !== 'chat.error') return;
    this.runs.delete(runId);
    if (f.event === 'chat.error') {
      const err = (f.payload as { error?: { code?: unknown; retryable?: unknown } }).error;
      return p.done({ kind: err?.retryable === true ? 'retryable' : 'failed', code: typeof err?.code === 'string' ? err.code : 'verify' });
    }
    if (typeof f.payload?.text !== 'string' || f.payload.text.length === 0) return p.done({ kind: 'failed', code: 'verify' });
    p.done({ kind: 'ok', ...(p.firstDeltaAt !== undefined ? { ttftMs: p.firstDeltaAt - p.startedAt } : {}) });
  }

  /** Everything still unanswered is lost (no answer at all). */
  loseAll(code: string): void {
    const all = [...this.pending.values(), ...this.runs.values()];
    this.pending.clear();
    this.runs.clear();
    for (const p of all) p.done({ kind: 'lost', code });
  }

  close(): void {
    this.isOpen = false;
    this.ws?.terminate();
  }
}
