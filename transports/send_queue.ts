/**
 * Bounded outbound queue for one WebSocket. uWS buffers what the kernel will
 * not take yet (`getBufferedAmount`); we stop handing it frames once that passes
 * `maxBufferedBytes` and hold them here instead, up to `maxQueuedBytes`. When
 * the queue overflows, or makes no progress for `stallMs`, the consumer is
 * declared slow and `onSlow` closes it. So the memory a client can pin is at
 * most maxBufferedBytes + maxQueuedBytes + one frame, however fast events come.
 *
 *   producer ─► [ our queue ≤ maxQueuedBytes ] ─► [ uWS buffer ≤ maxBufferedBytes ] ─► socket
 *                        ▲                                   │
 *                        └──────────── drain event ──────────┘
 */

/** The part of a uWS WebSocket the queue drives. */
export interface BackpressuredSocket {
  send(message: string | Uint8Array, isBinary: boolean): number;
  getBufferedAmount(): number;
}

export interface SendQueueLimits {
  maxBufferedBytes: number;
  maxQueuedBytes: number;
  stallMs: number;
}

/** uWS `send` result meaning the frame was not accepted at all. */
const DROPPED = 2;

interface Pending {
  data: string | Uint8Array;
  bytes: number;
}

export class SendQueue {
  // Consumed slots are cleared so a long queue releases frames as it drains.
  private readonly pending: (Pending | undefined)[] = [];
  private head = 0;
  private bytes = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly socket: BackpressuredSocket,
    private readonly isBinary: boolean,
    private readonly limits: SendQueueLimits,
    private readonly onSlow: () => void,
    /** Reports changes of queued bytes (for the gauge). */
    private readonly onBytesChange: (delta: number) => void = () => {},
  ) {}

  get queuedBytes(): number {
    return this.bytes;
  }

  /** Sends or queues a frame. False when the connection is closed or was just declared slow. */
  push(data: string | Uint8Array): boolean {
    if (this.closed) return false;
    if (this.head === this.pending.length && this.socket.getBufferedAmount() < this.limits.maxBufferedBytes) {
      if (this.socket.send(data, this.isBinary) === DROPPED) return this.slow();
      return true;
    }
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    this.pending.push({ data, bytes });
    this.addBytes(bytes);
    if (this.bytes > this.limits.maxQueuedBytes) return this.slow();
    this.stallTimer ??= setTimeout(() => this.slow(), this.limits.stallMs);
    return true;
  }

  /** Call from the uWS `drain` handler: moves queued frames into uWS while it has room. */
  drain(): void {
    if (this.closed) return;
    const before = this.head;
    while (this.head < this.pending.length && this.socket.getBufferedAmount() < this.limits.maxBufferedBytes) {
      const next = this.pending[this.head] as Pending;
      if (this.socket.send(next.data, this.isBinary) === DROPPED) {
        this.slow();
        return;
      }
      this.pending[this.head++] = undefined;
      this.addBytes(-next.bytes);
    }
    if (this.head === this.pending.length) {
      this.pending.length = 0;
      this.head = 0;
      this.clearTimer();
    } else if (this.head !== before) {
      // Progress: the consumer is slow but alive, give it a fresh stall window.
      this.clearTimer();
      this.stallTimer = setTimeout(() => this.slow(), this.limits.stallMs);
    }
  }

  /** Drops everything; later pushes are ignored. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    this.addBytes(-this.bytes);
    this.pending.length = 0;
    this.head = 0;
  }

  private slow(): false {
    if (!this.closed) {
      this.close();
      this.onSlow();
    }
    return false;
  }

  private addBytes(delta: number): void {
    if (delta === 0) return;
    this.bytes += delta;
    this.onBytesChange(delta);
  }

  private clearTimer(): void {
    if (this.stallTimer !== undefined) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }
}
