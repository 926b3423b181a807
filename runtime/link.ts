/**
 * Link: the sending half of one host pair, with flow control. Frames wait in
 * a flat outbox; once per event-loop turn the outbox is packed and posted as
 * one batch, but only while the peer has acknowledged enough earlier batches:
 *
 *     outbox (not sent)          posted, not yet acknowledged        peer
 *     [acks|f f f f f f] ──►  ┌ batch ┐┌ batch ┐ ... ≤ window ┐ ──► receive()
 *      ▲ queued messages      └───────┘└───────┘  ≤ maxBytes  ┘        │
 *      │                           ▲ credits come back as acks ◄───────┘
 *      └ a user message past `maxQueued` (outbox + in flight) is refused: OVERLOADED
 *
 * Slot 0 of every batch carries the acknowledgements this host owes the peer
 * (batches with frames it has received and routed), so acks ride on traffic
 * that flows anyway. A host that owes half a window (or a quarter of the
 * queue bound in messages) and has nothing to send posts a batch of acks
 * alone at the end of its turn; a quiet link settles what it owes on a
 * periodic timer. A batch of acks alone is never acknowledged itself, so acks
 * cannot ping-pong, and it ignores the window, so two links that are both
 * full cannot wait on each other.
 *
 * What this bounds: the port's queue (at most `window` batches and about
 * `maxBytes` unread), and the outbox (at most `maxQueued` user messages; frames
 * the runtime itself sends, such as replies, watches and Terminated, are not
 * refused). The receiver's mailboxes bound the rest.
 */
import { encodeBatch } from './codec.js';
import { Ring } from './ring.js';

export interface LinkLimits {
  /** Batches posted and not yet acknowledged (default 16). */
  window: number;
  /** Bytes posted and not yet acknowledged; the window closes at this (default 16 MiB). */
  maxBytes: number;
  /** User messages (tells and asks) queued or in flight on one link before more are refused (default 65,536). */
  maxQueued: number;
}

export const DEFAULT_LINK_LIMITS: LinkLimits = { window: 16, maxBytes: 16 * 1024 * 1024, maxQueued: 65_536 };

/** Fills in defaults and checks the values (RangeError when one is not a positive integer). */
export function linkLimits(given: Partial<LinkLimits> | undefined): LinkLimits {
  const limits = { ...DEFAULT_LINK_LIMITS, ...given };
  for (const key of ['window', 'maxBytes', 'maxQueued'] as const) {
    if (!Number.isInteger(limits[key]) || limits[key] < 1) throw new RangeError(`link.${key} must be a positive integer`);
  }
  return limits;
}

/** Flush early once an outbox holds this many slots (bounds batch size and latency). */
const FLUSH_SLOTS = 32_768;

export interface PortLike {
  postMessage(value: unknown, transfer?: readonly ArrayBuffer[]): void;
}

export class Link {
  /** Slot 0 is reserved for the acks this batch will carry. */
  outbox: unknown[] = [0];
  port: PortLike | null = null;
  /** User messages in the outbox. */
  private outboxMessages = 0;
  /** User messages in batches posted but not yet acknowledged. */
  private inFlightMessages = 0;
  private inFlightBytes = 0;
  /** Per posted batch: [messages, bytes], oldest first. */
  private readonly inFlight = new Ring<number>(64);
  /** Batches with frames received from the peer and not yet acknowledged to it. */
  private owed = 0;
  /** User messages in those batches. */
  private owedMessages = 0;
  private flushScheduled = false;

  constructor(
    readonly host: number,
    private readonly limits: LinkLimits,
    /** Called with a batch that failed to encode; returns the frames that can be sent. */
    private readonly salvage: (frames: unknown[]) => unknown[],
  ) {}

  get up(): boolean {
    return this.port !== null;
  }

  /** User messages sent on this link that the peer has not yet acknowledged (outbox + in flight). */
  get depth(): number {
    return this.outboxMessages + this.inFlightMessages;
  }

  /** Whether a user message would be refused now. */
  get full(): boolean {
    return this.outboxMessages + this.inFlightMessages >= this.limits.maxQueued;
  }

  private get open(): boolean {
    return this.inFlight.length < this.limits.window * 2 && this.inFlightBytes < this.limits.maxBytes;
  }

  /** Frames were appended to the outbox; `message` when they are a user tell or ask. */
  push(message: boolean): void {
    if (message) this.outboxMessages++;
    if (this.outbox.length >= FLUSH_SLOTS && this.port !== null && this.open) {
      this.post(false);
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  /** The peer routed `n` of our batches: return their credit and send what waited for it. */
  acknowledged(n: number): void {
    for (let i = 0; i < n && this.inFlight.length > 0; i++) {
      this.inFlightMessages -= this.inFlight.shift() as number;
      this.inFlightBytes -= this.inFlight.shift() as number;
    }
    if (this.outbox.length > 1 && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  /**
   * A batch with frames (`messages` of them user messages) arrived from the
   * peer and was routed: it is owed an ack. The ack rides on our next batch;
   * it goes alone at the end of this turn once the peer may be short of credit
   * (half its window, or a quarter of its queue bound, unacknowledged), and
   * otherwise at the latest on the next `settle()`.
   */
  received(messages: number): void {
    this.owed++;
    this.owedMessages += messages;
    if ((this.owed * 2 >= this.limits.window || this.owedMessages * 4 >= this.limits.maxQueued) && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Returns any credit still owed (called from a periodic timer, so a quiet link's depth reaches 0). */
  settle(): void {
    if (this.owed > 0 && !this.flushScheduled && this.port !== null) this.postAcks(this.port);
  }

  readonly flush = (): void => {
    this.flushScheduled = false;
    this.post(false);
  };

  /** Posts everything now, credit or not (shutdown). */
  flushNow(): void {
    this.post(true);
  }

  private post(force: boolean): void {
    const port = this.port;
    if (port === null) return;
    if (this.outbox.length === 1 || (!force && !this.open)) {
      // Nothing to send, or no credit: still return the credit the peer may be waiting for.
      if (this.owed * 2 >= this.limits.window || this.owedMessages * 4 >= this.limits.maxQueued) this.postAcks(port);
      return;
    }
    const frames = this.outbox;
    frames[0] = this.owed;
    this.owed = 0;
    this.owedMessages = 0;
    this.outbox = [0];
    const messages = this.outboxMessages;
    this.outboxMessages = 0;
    let bytes: Uint8Array;
    try {
      bytes = encodeBatch(frames);
    } catch {
      bytes = encodeBatch(this.salvage(frames));
    }
    this.inFlight.push(messages);
    this.inFlight.push(bytes.length);
    this.inFlightMessages += messages;
    this.inFlightBytes += bytes.length;
    port.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
  }

  private postAcks(port: PortLike): void {
    const bytes = encodeBatch([this.owed]);
    this.owed = 0;
    this.owedMessages = 0;
    port.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
  }

  /** The peer went away: batches in flight are gone with it, and so is what we owed it. Returns how many messages it had not confirmed. */
  reset(): number {
    const lost = this.inFlightMessages;
    while (this.inFlight.length > 0) this.inFlight.shift();
    this.inFlightMessages = 0;
    this.inFlightBytes = 0;
    this.owed = 0;
    this.owedMessages = 0;
    return lost;
  }
}
