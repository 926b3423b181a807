/** Behaviours the runtime benchmarks place on workers (module props). */
import type { ActorRef, Behavior } from '../../runtime/index.js';

/** Counts messages; 'count' returns the total so far (a barrier after a burst of tells). */
export function counter(): Behavior<unknown> {
  let n = 0;
  return {
    receive(msg) {
      if (msg === 'count') return n;
      n++;
      return undefined;
    },
  };
}

/** Answers every ask with its message. */
export function echo(): Behavior<unknown> {
  return { receive: (msg) => msg };
}

/** Waits until `target` has seen `expected` tells; used by one-way throughput. */
export function done(): Behavior<{ target: ActorRef }> {
  return { receive: (msg) => msg.target.ask('count') };
}
