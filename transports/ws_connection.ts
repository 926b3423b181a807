/**
 * One WebSocket client as the front door sees it: who it is, its event
 * counter, its bounded send queue. Created in the upgrade handler (before uWS
 * has a socket), attached on open, detached on close; after close every send is
 * a silent no-op, because runs may outlive their client.
 */
import type { WebSocket } from 'uWebSockets.js';
import type { Principal } from '../security/types.js';
import { encodeFrame, type OutboundFrame, type RequestId, type WireProtocol } from './codec.js';
import { assertStillValid, type FrontDoorContext } from './context.js';
import { toWireError, type ErrorCode } from './errors.js';
import { SendQueue } from './send_queue.js';

export interface ConnectionUserData {
  conn: WsConnection;
}

/** Close codes the front door uses (1000-1015 are RFC 6455's; 4xxx are ours). */
export const CloseCode = {
  GOING_AWAY: 1001,
  MESSAGE_TOO_BIG: 1009,
  AUTH_TIMEOUT: 4401,
  /** The API key the connection authenticated with (or signed in with) was revoked. */
  REVOKED: 4403,
  SLOW_CONSUMER: 4008,
} as const;

/** How long a connection's API key counts as live after a check: a revocation reaches the next request within this. */
export const KEY_RECHECK_MS = 1_000;

export class WsConnection {
  /** Set by an upgrade token or a successful `connect`. */
  principal: Principal | undefined;
  /** `connect` has completed on this connection. */
  connected = false;
  connecting = false;
  inflight = 0;
  private seq = 0;
  private ws: WebSocket<ConnectionUserData> | undefined;
  private queue: SendQueue | undefined;
  private closed = false;
  private authTimer: NodeJS.Timeout | undefined;
  /** When the principal's API key was last found live (performance.now()): when it authenticated, at first. */
  private keyCheckedAt = -Infinity;
  private pendingKeyCheck: Promise<void> | undefined = undefined;
  private keyTimer: NodeJS.Timeout | undefined;
  /** The encoded frame `pushCorked` sends. */
  private corked: string | Buffer | undefined = undefined;
  /** Undone when the socket closes (event subscriptions such as team.watch). */
  private readonly cleanups: (() => void)[] = [];

  constructor(
    readonly protocol: WireProtocol,
    readonly ip: string,
    principal: Principal | undefined,
    private readonly ctx: FrontDoorContext,
  ) {
    this.principal = principal;
    if (principal !== undefined) this.keyCheckedAt = performance.now();
  }

  /** The socket is open: a principal that names an API key is watched from now on. */
  private watchKey(): void {
    clearInterval(this.keyTimer);
    this.keyTimer = undefined;
    if (this.principal?.keyId === undefined || this.ws === undefined || this.closed) return;
    const every = this.ctx.config.keyIdleRecheckMs;
    this.keyTimer = setInterval(() => {
      // Skipped only when a request had it checked since the last tick (a whole interval would let jitter skip two).
      if (performance.now() - this.keyCheckedAt < every - KEY_RECHECK_MS) return;
      // A store that does not answer leaves the connection as it is until the next tick.
      this.keyCheck()?.catch(() => undefined);
    }, every);
    this.keyTimer.unref();
  }

  get isOpen(): boolean {
    return this.ws !== undefined && !this.closed;
  }

  get queuedBytes(): number {
    return this.queue?.queuedBytes ?? 0;
  }

  attach(ws: WebSocket<ConnectionUserData>): void {
    const { config, metrics } = this.ctx;
    this.ws = ws;
    this.queue = new SendQueue(
      ws,
      this.protocol === 'msgpack',
      { maxBufferedBytes: config.maxBufferedBytes, maxQueuedBytes: config.maxQueuedBytes, stallMs: config.slowConsumerMs },
      () => this.closeSlowConsumer(),
      (delta) => metrics.queuedBytes.inc(delta),
    );
    this.watchKey();
    if (this.principal === undefined) {
      this.authTimer = setTimeout(() => {
        if (this.principal === undefined) this.end(CloseCode.AUTH_TIMEOUT, 'authentication timeout');
      }, config.connectTimeoutMs);
    }
  }

  /** Called from the uWS close handler: the socket is gone, stop everything. */
  detach(): void {
    this.closed = true;
    this.queue?.close();
    this.clearAuthTimer();
    clearInterval(this.keyTimer);
    for (const undo of this.cleanups.splice(0)) undo();
  }

  /** Runs `undo` when the connection closes (at once if it already has). */
  onClose(undo: () => void): void {
    if (this.closed) undo();
    else this.cleanups.push(undo);
  }

  authenticated(principal: Principal): void {
    this.principal = principal;
    this.keyCheckedAt = performance.now();
    this.clearAuthTimer();
    this.watchKey();
  }

  /**
   * Asks whether the principal's API key (`keyId`) is still live, if it was not
   * found live in the last KEY_RECHECK_MS, one question at a time (requests that
   * arrive meanwhile share it); undefined when there is nothing to ask. Revoked:
   * rejects UNAUTHORIZED (reason `revoked`) and closes the connection with 4403,
   * right after the request that found it out has its answer.
   */
  keyCheck(): Promise<void> | undefined {
    const p = this.principal;
    if (p?.keyId === undefined || this.closed) return undefined;
    // An expired credential is refused by its expiry (token_expired), not as a revoked key.
    if (p.expiresAt !== undefined && p.expiresAt <= Date.now()) return undefined;
    if (this.pendingKeyCheck !== undefined) return this.pendingKeyCheck;
    const askedAt = performance.now();
    if (askedAt - this.keyCheckedAt < KEY_RECHECK_MS) return undefined;
    const pending = assertStillValid(this.ctx, p, this.ip).then(() => {
      this.keyCheckedAt = askedAt;
    }, (err: unknown) => {
      if ((err as { reason?: unknown }).reason === 'revoked') setImmediate(() => this.end(CloseCode.REVOKED, 'credentials revoked'));
      throw err;
    }).finally(() => {
      this.pendingKeyCheck = undefined;
    });
    this.pendingKeyCheck = pending;
    return pending;
  }

  reply(id: RequestId | null, payload: unknown): void {
    this.send({ type: 'res', id, ok: true, payload });
  }

  replyError(id: RequestId | null, err: unknown): ErrorCode {
    const error = toWireError(err);
    this.ctx.metrics.errors.inc({ transport: 'ws', code: error.code });
    this.send({ type: 'res', id, ok: false, error });
    return error.code;
  }

  /** Sends an event with the next per-connection sequence number (1, 2, 3, …). */
  event(event: string, payload: unknown): void {
    if (!this.isOpen) return;
    this.seq += 1;
    this.send({ type: 'event', event, payload, seq: this.seq });
  }

  drain(): void {
    this.queue?.drain();
  }

  /** Closes with a close frame; uWS runs the close handler synchronously. */
  end(code: number, reason: string): void {
    if (!this.isOpen) return;
    (this.ws as WebSocket<ConnectionUserData>).end(code, reason);
  }

  private send(frame: OutboundFrame): void {
    const ws = this.ws;
    if (ws === undefined || this.queue === undefined || this.closed) return;
    this.corked = encodeFrame(frame, this.protocol);
    this.ctx.metrics.framesOut[this.protocol]++;
    // Corking packs frames sent from async code into one syscall.
    ws.cork(this.pushCorked);
  }

  /** Runs inside cork; one bound function per connection instead of a closure per frame. */
  private readonly pushCorked = (): void => {
    const data = this.corked as string | Buffer;
    this.corked = undefined;
    this.queue?.push(data);
  };

  private closeSlowConsumer(): void {
    this.ctx.metrics.slowConsumerCloses.inc();
    this.ctx.logger.warn('closing slow WebSocket consumer', { ip: this.ip, user: this.principal?.user });
    // Not from inside cork/drain: uWS must finish the current write first.
    setImmediate(() => this.end(CloseCode.SLOW_CONSUMER, 'slow consumer'));
  }

  private clearAuthTimer(): void {
    if (this.authTimer !== undefined) clearTimeout(this.authTimer);
    this.authTimer = undefined;
  }
}
