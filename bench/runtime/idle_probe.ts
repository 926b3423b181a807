/**
 * Measures heap bytes per idle actor in a fresh process (run with
 * --expose-gc): spawn N idle actors, collect, compare heap before and after.
 */
import { ActorSystem } from '../../runtime/index.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const n = Number(process.argv[2] ?? 100_000);
const system = new ActorSystem();
const behavior = { receive: () => undefined };
gc();
gc();
const before = process.memoryUsage();
const refs = [];
for (let i = 0; i < n; i++) refs.push(system.spawn(() => behavior));
await new Promise((r) => setTimeout(r, 10));
gc();
gc();
const after = process.memoryUsage();
process.stdout.write(JSON.stringify({
  actors: n,
  heapBytesPerActor: Math.round((after.heapUsed - before.heapUsed) / n),
  rssBytesPerActor: Math.round((after.rss - before.rss) / n),
  alive: system.size,
  refsHeld: refs.length,
}) + '\n');
await system.shutdown(1_000);
