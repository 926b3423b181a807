/** Entry point of a forked load process: one Shard, driven over IPC. */
import type { ChildMessage, ParentMessage } from './shard_process.js';
import { Shard } from './shard.js';

const send = (m: ChildMessage): Promise<void> =>
  new Promise((resolve) => {
    if (process.send === undefined) return resolve();
    process.send(m, undefined, {}, () => resolve());
  });
let shard: Shard | undefined;

process.on('message', (raw) => {
  const m = raw as ParentMessage;
  void (async () => {
    if (m.type === 'start' && shard === undefined) {
      shard = new Shard(m.options, (progress) => void send({ type: 'progress', progress }));
      const r = await shard.ramp();
      await send({ type: 'ramped', ...r });
    } else if (m.type === 'go' && shard !== undefined) {
      const result = await shard.run(m.startAt);
      await send({ type: 'result', result });
      process.disconnect();
    }
  })().catch((err: unknown) => {
    process.exitCode = 1;
    void send({ type: 'error', message: err instanceof Error ? err.message : String(err) }).then(() => process.disconnect());
  });
});
// The parent going away must not leave an orphan holding thousands of sockets.
process.on('disconnect', () => setTimeout(() => process.exit(), 100).unref());
