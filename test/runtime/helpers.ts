/** Small helpers shared by the runtime tests. */
import { ActorSystem, type SystemOptions } from '../../runtime/index.js';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` until true or `timeoutMs` passes; returns whether it became true. */
export async function eventually(cond: () => boolean, timeoutMs = 5_000, everyMs = 5): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (cond()) return true;
    await sleep(everyMs);
  }
  return cond();
}

export function newSystem(t: { teardown(fn: () => unknown): void }, options: SystemOptions = {}): ActorSystem {
  const sys = new ActorSystem(options);
  t.teardown(() => sys.shutdown(200));
  return sys;
}
