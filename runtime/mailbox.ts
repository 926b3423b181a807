/**
 * A bounded FIFO mailbox stored as a ring of triples in one flat array:
 *
 *     slots: [ msg0, sender0, reply0 | msg1, sender1, reply1 | ... ]
 *              ^head*3                 (head + size) % cap * 3 is the next write
 *
 * One flat array instead of an envelope object per message keeps the tell path
 * allocation-free. The ring starts unallocated (an idle actor costs nothing
 * here), doubles on demand up to `capacity`, and shrinks back once drained, so
 * a burst does not pin memory forever.
 */
import type { ActorRef } from './ref.js';

/** Where an ask's answer goes. Local asks and remote asks both implement it. */
export interface ReplyTo {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export type OverflowPolicy = 'reject' | 'drop-oldest' | 'drop-newest';

const INITIAL_SLOTS = 2;
const SHRINK_ABOVE = 64;

export class Mailbox {
  private slots: unknown[] | null = null;
  private head = 0;
  /** Number of queued messages. */
  size = 0;
  private cap = 0;

  constructor(readonly capacity: number) {}

  get isEmpty(): boolean {
    return this.size === 0;
  }

  get isFull(): boolean {
    return this.size >= this.capacity;
  }

  push(msg: unknown, sender: ActorRef | undefined, reply: ReplyTo | undefined): void {
    if (this.size === this.cap) this.grow();
    const slots = this.slots as unknown[];
    const at = ((this.head + this.size) % this.cap) * 3;
    slots[at] = msg;
    slots[at + 1] = sender;
    slots[at + 2] = reply;
    this.size++;
  }

  /** The message at the head; call `sender()`/`reply()` before `shift()` to read its envelope. */
  peekMsg(): unknown {
    return (this.slots as unknown[])[this.head * 3];
  }

  peekSender(): ActorRef | undefined {
    return (this.slots as unknown[])[this.head * 3 + 1] as ActorRef | undefined;
  }

  peekReply(): ReplyTo | undefined {
    return (this.slots as unknown[])[this.head * 3 + 2] as ReplyTo | undefined;
  }

  /** Drops the head entry. */
  shift(): void {
    const slots = this.slots as unknown[];
    const at = this.head * 3;
    slots[at] = undefined;
    slots[at + 1] = undefined;
    slots[at + 2] = undefined;
    this.head = (this.head + 1) % this.cap;
    this.size--;
    if (this.size === 0) {
      this.head = 0;
      if (this.cap > SHRINK_ABOVE) {
        this.slots = null;
        this.cap = 0;
      }
    }
  }

  /** Removes every entry, calling `each` on it first (used to dead-letter a stopped actor's mail). */
  drain(each: (msg: unknown, sender: ActorRef | undefined, reply: ReplyTo | undefined) => void): void {
    while (this.size > 0) {
      const msg = this.peekMsg();
      const sender = this.peekSender();
      const reply = this.peekReply();
      this.shift();
      each(msg, sender, reply);
    }
  }

  private grow(): void {
    const next = this.cap === 0 ? INITIAL_SLOTS : Math.min(this.cap * 2, Math.max(this.capacity, INITIAL_SLOTS));
    if (next <= this.cap) throw new Error('mailbox grow past capacity');
    const slots = new Array<unknown>(next * 3);
    for (let i = 0; i < this.size; i++) {
      const from = ((this.head + i) % this.cap) * 3;
      const old = this.slots as unknown[];
      slots[i * 3] = old[from];
      slots[i * 3 + 1] = old[from + 1];
      slots[i * 3 + 2] = old[from + 2];
    }
    this.slots = slots;
    this.head = 0;
    this.cap = next;
  }
}
