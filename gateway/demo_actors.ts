/** Behaviours for the runtime demo that `troupe start` runs until the front door lands. */
import type { Behavior } from '../runtime/index.js';

/** A stand-in session: counts the turns it has seen and answers with a greeting. */
export function demoSession(args: { key: string }): Behavior<{ text: string }> {
  let turns = 0;
  return {
    receive(msg) {
      turns++;
      return { key: args.key, turns, reply: `echo: ${msg.text}` };
    },
  };
}
