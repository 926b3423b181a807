/**
 * The shapes user code programs against: behaviours, props, spawn options,
 * supervisor specs and the context a handler receives.
 *
 * A behaviour is a value (an object with `receive`), made by a factory so that
 * a restart can build a fresh one: state lives in the factory's closure and a
 * restart throws it away, as in Erlang/OTP.
 */
import type { OverflowPolicy } from './mailbox.js';
import type { ActorRef } from './ref.js';

export interface Behavior<M = unknown> {
  /**
   * Handles one message. The actor takes its next message only once this returns
   * or, when it returns a promise, once that promise settles. For an `ask`, the
   * returned (or resolved) value is the reply, unless `ctx.deferReply()` was used.
   */
  receive(msg: M, ctx: ActorContext<M>): unknown;
  /** Runs before the first message, after every (re)start. */
  preStart?(ctx: ActorContext<M>): void | Promise<void>;
  /** Runs once when the actor stops for good (not on restart). */
  postStop?(ctx: ActorContext<M>): void | Promise<void>;
  /** Runs on the failing instance before it is replaced. */
  preRestart?(ctx: ActorContext<M>, reason: unknown): void;
  /** Runs on the new instance after a restart, after `preStart`. */
  postRestart?(ctx: ActorContext<M>, reason: unknown): void;
}

export type BehaviorFactory<M = unknown, A = unknown> = (args: A) => Behavior<M>;

/**
 * How to build an actor. A factory works on the local thread. A module spec
 * works on any thread: the host imports `module` (a file URL) and calls the
 * named export with `args`, which must be msgpack-serialisable.
 */
export type Props<M = unknown> =
  | BehaviorFactory<M, undefined>
  | { factory: BehaviorFactory<M, never>; args?: unknown }
  | ModuleProps;

export interface ModuleProps {
  module: string;
  export?: string;
  args?: unknown;
}

export type RestartType = 'permanent' | 'transient' | 'temporary';
export type SupervisionStrategy = 'one-for-one' | 'one-for-all' | 'rest-for-one';

/** How an actor supervises its children (Erlang/OTP supervisor flags). */
export interface SupervisorSpec {
  strategy: SupervisionStrategy;
  /** At most this many restarts within `withinMs`; one more escalates to the parent. */
  maxRestarts: number;
  withinMs: number;
  /** Optional exponential backoff before each restart of the same child. */
  backoff?: { minMs: number; maxMs: number; factor?: number };
}

export type Placement = 'local' | { key: string } | { worker: number };

export interface MailboxOptions {
  capacity?: number;
  overflow?: OverflowPolicy;
}

export interface SpawnOptions {
  /** Registers the actor under this name for `lookup`. Names are unique per system. */
  name?: string;
  mailbox?: MailboxOptions;
  /** permanent: always restarted; transient: restarted after a failure only; temporary: never. */
  restart?: RestartType;
  /** How this actor supervises the children it spawns. */
  supervision?: SupervisorSpec;
  /** Where the actor runs. Only the system's `spawn` honours worker placement; children are local. */
  placement?: Placement;
}

/** Delivered to a watcher when a watched actor stops for good. */
export interface Terminated {
  readonly type: 'troupe.terminated';
  readonly ref: ActorRef;
  readonly reason: TerminationReason;
}

export type TerminationReason = 'stopped' | 'failed' | 'unavailable';

export function isTerminated(msg: unknown): msg is Terminated {
  return typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'troupe.terminated';
}

/**
 * Delivered to the sender of a tell (when the tell named one) that another
 * thread's full `reject` mailbox refused. Without a sender, the sending
 * thread's dead letters carry it (reason `rejected`).
 */
export interface Rejected {
  readonly type: 'troupe.rejected';
  /** The actor that refused it. */
  readonly target: ActorRef;
  /** The message, as sent. */
  readonly message: unknown;
  readonly code: string;
  readonly reason: string;
}

export function isRejected(msg: unknown): msg is Rejected {
  return typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'troupe.rejected';
}

/** Replies to an ask later, outside the handler that received it. */
export interface Replier {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface ActorContext<M = unknown> {
  readonly self: ActorRef<M>;
  readonly parent: ActorRef | undefined;
  /** The sender of the message being handled (valid until the handler settles). */
  readonly sender: ActorRef | undefined;
  /** Spawns a child on this thread, supervised by this actor. */
  spawn<C>(props: Props<C>, options?: SpawnOptions): ActorRef<C>;
  /** Stops a child, or this actor when called with no argument. */
  stop(ref?: ActorRef): void;
  watch(ref: ActorRef): void;
  unwatch(ref: ActorRef): void;
  /** Replaces the behaviour for the following messages (state machines). */
  become(next: Behavior<M>): void;
  /** Takes over the reply to the current ask; returns undefined for a tell. */
  deferReply(): Replier | undefined;
  children(): ActorRef[];
}
