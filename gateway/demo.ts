/**
 * The runtime demo: a pooled actor system with a few keyed "sessions" on the
 * workers, driven by a timer, printing what it does. Stops cleanly on
 * SIGINT/SIGTERM.
 */
import { ActorSystem, type ActorRef } from '../runtime/index.js';

export async function runDemo(options: { workers?: number; log: (line: string) => void }): Promise<void> {
  const { log } = options;
  const system = await ActorSystem.start({ pool: { workers: options.workers } });
  const pool = system.workers;
  log(`troupe runtime demo: ${pool?.size ?? 0} worker hosts + the main thread`);
  const module = new URL('./demo_actors.js', import.meta.url).href;
  const sessions: ActorRef<{ text: string }>[] = [];
  for (const key of ['alice', 'bob', 'carol', 'dave']) {
    const ref = system.spawn<{ text: string }>({ module, export: 'demoSession', args: { key } }, { placement: { key } });
    sessions.push(ref);
    log(`  session ${key} → worker ${ref.host}`);
  }
  let tick = 0;
  const timer = setInterval(() => {
    tick++;
    void Promise.all(sessions.map((s) => s.ask({ text: `hello #${tick}` }))).then((replies) => {
      const snap = system.metricsSnapshot();
      const processed = snap.hosts.reduce((n, h) => n + h.processed, 0);
      log(`tick ${tick}: ${replies.length} replies, ${processed} messages processed across ${snap.hosts.length} hosts`);
    }, (err: unknown) => log(`tick ${tick}: ${String(err)}`));
  }, 1_000);
  log('press Ctrl-C to stop');
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  clearInterval(timer);
  log('shutting down…');
  await system.shutdown(2_000);
  log('stopped');
}
