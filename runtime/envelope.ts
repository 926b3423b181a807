/**
 * Envelope context: an opaque value a message carries beside it, such as a
 * trace context. It is captured on the sender's thread when the message is
 * sent, and made current again around the handler that receives it, on
 * whichever thread that runs:
 *
 *     sender                                         receiver
 *     tell(msg) ─ capture() → c ─┬─ same thread ──► mailbox [Carried(msg, c)] ─┐
 *                                └─ other thread ─► frame [TELL_CTX id msg … c] ┴─► run(c, receive, msg)
 *
 * The runtime never looks inside `c`; it must be msgpack-encodable (a string
 * is best). Without an envelope context, or when `capture()` returns
 * undefined, nothing is wrapped and the frames are the plain ones: the off
 * path allocates nothing.
 */

export interface EnvelopeContext {
  /** The value to carry with a message sent now, or undefined to carry nothing. */
  capture(): unknown;
  /**
   * Calls `fn.call(thisArg, msg, actor)` (an actor's `receive`) with `carried`
   * as the current context; `carried` is undefined for a message that carried
   * nothing. Two arguments, not a rest parameter: this runs for every message.
   */
  run<M, C, R>(carried: unknown, fn: (msg: M, actor: C) => R, thisArg: unknown, msg: M, actor: C): R;
}

/** Where a thread gets its envelope context: the named export of `module`, called with `args`. */
export interface EnvelopeContextSpec {
  module: string;
  export?: string;
  args?: unknown;
}

/** A message and the context captured when it was sent (kept in the mailbox instead of the bare message). */
export class Carried {
  constructor(
    readonly msg: unknown,
    readonly context: unknown,
  ) {}
}

/** The bare message, whether or not it was carried with a context. */
export function bareMessage(msg: unknown): unknown {
  return msg instanceof Carried ? msg.msg : msg;
}

/** Imports a spec's module and builds the context (each thread does this once, before it takes messages). */
export async function loadEnvelopeContext(spec: EnvelopeContextSpec): Promise<EnvelopeContext> {
  const mod = (await import(spec.module)) as Record<string, unknown>;
  const make = mod[spec.export ?? 'default'];
  if (typeof make !== 'function') throw new TypeError(`${spec.module} has no function export "${spec.export ?? 'default'}"`);
  return (await (make as (args: unknown) => EnvelopeContext | Promise<EnvelopeContext>)(spec.args));
}
