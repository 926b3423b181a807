/**
 * The WebSocket RPC client (docs/protocol.md): JSON frames on /ws of this
 * origin, `connect` with the signed-in credential first, then requests matched
 * to responses by id and events handed to listeners.
 */

export interface RpcError {
  code: string;
  message: string;
  reason?: string;
}

interface Frame {
  type: 'res' | 'event';
  id?: string | null;
  ok?: boolean;
  payload?: Record<string, unknown>;
  error?: RpcError;
  event?: string;
  seq?: number;
}

export class RpcFailure extends Error {
  constructor(readonly error: RpcError) {
    super(`${error.code}: ${error.message}`);
  }
}

type Listener = (event: string, payload: Record<string, unknown>) => void;

/** At most this many requests wait for an answer at once (the gateway bounds in-flight requests too). */
const MAX_PENDING = 64;

export class Rpc {
  private readonly pending = new Map<string, { resolve: (p: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<Listener>();
  private nextId = 0;
  private closedWith: Error | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener('message', (m) => this.receive(String(m.data)));
    ws.addEventListener('close', (c) => {
      this.closedWith = new Error(`connection closed (${c.code}${c.reason === '' ? '' : `: ${c.reason}`})`);
      for (const p of this.pending.values()) p.reject(this.closedWith);
      this.pending.clear();
      for (const l of this.listeners) l('closed', { code: c.code, reason: c.reason });
    });
  }

  /** Opens /ws and sends `connect` with `token`; resolves with the connect payload's identity. */
  static async open(token: string): Promise<{ rpc: Rpc; tenant: string; user: string }> {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error('could not open the WebSocket')), { once: true });
    });
    const rpc = new Rpc(ws);
    try {
      const hello = await rpc.call('connect', { token });
      return { rpc, tenant: String(hello.tenant), user: String(hello.user) };
    } catch (err) {
      rpc.close();
      throw err;
    }
  }

  get open(): boolean {
    return this.closedWith === undefined;
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    if (this.pending.size >= MAX_PENDING) return Promise.reject(new Error('too many requests waiting for an answer'));
    const id = `c${++this.nextId}`;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ type: 'req', id, method, params }));
    });
  }

  /** Adds an event listener; returns its removal. The pseudo-event `closed` reports the end of the connection. */
  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.ws.close(1000, 'bye');
  }

  private receive(text: string): void {
    let frame: Frame;
    try {
      frame = JSON.parse(text) as Frame;
    } catch {
      return;
    }
    if (frame.type === 'event' && typeof frame.event === 'string') {
      for (const l of this.listeners) l(frame.event, frame.payload ?? {});
      return;
    }
    if (frame.type !== 'res' || typeof frame.id !== 'string') return;
    const p = this.pending.get(frame.id);
    if (p === undefined) return;
    this.pending.delete(frame.id);
    if (frame.ok === true) p.resolve(frame.payload ?? {});
    else p.reject(new RpcFailure(frame.error ?? { code: 'INTERNAL', message: 'no error detail' }));
  }
}
