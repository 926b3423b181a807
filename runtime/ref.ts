/**
 * ActorRef: the address of an actor. It names a host (0 is the main thread,
 * 1..N are worker slots) and an actor id unique within that host, and nothing
 * else, so it serialises to two numbers and means the same on every thread.
 * A ref is bound to the local system that created or decoded it; that system
 * routes `tell`/`ask` locally or across threads.
 */

export interface AskOptions {
  /** Reject with AskTimeoutError after this long. Default: the system's `askTimeoutMs`. */
  timeoutMs?: number;
}

/** What a ref needs from its local system. */
export interface RefRouter {
  deliver(target: ActorRef, msg: unknown, sender: ActorRef | undefined): void;
  askRef<R>(target: ActorRef, msg: unknown, options: AskOptions | undefined): Promise<R>;
}

/** The plain form of a ref (JSON, logs, cross-thread frames). */
export interface RefData {
  host: number;
  id: number;
}

/** `M` is the message type the actor accepts; it only types `tell`/`ask`. */
export class ActorRef<M = unknown> {
  constructor(
    readonly host: number,
    readonly id: number,
    private readonly router: RefRouter,
  ) {}

  /** Fire and forget. A message to a stopped actor becomes a counted dead letter. */
  tell(msg: M, sender?: ActorRef): void {
    this.router.deliver(this, msg, sender);
  }

  /** Request/response. Rejects with AskTimeoutError, MailboxFullError, ActorNotFoundError or UnavailableError. */
  ask<R = unknown>(msg: M, options?: AskOptions): Promise<R> {
    return this.router.askRef<R>(this, msg, options);
  }

  get path(): string {
    return `troupe://${this.host}/${this.id}`;
  }

  equals(other: ActorRef | RefData | undefined): boolean {
    return other !== undefined && other.host === this.host && other.id === this.id;
  }

  toJSON(): RefData {
    return { host: this.host, id: this.id };
  }

  toString(): string {
    return this.path;
  }
}
