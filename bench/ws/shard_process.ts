/**
 * Where a shard runs: in this process, or in a forked child (for runs above
 * ~15,000 connections: one process holds ~20,000 open files, and several use
 * every core). Both look the same to the orchestrator.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { ShardOptions } from './options.js';
import { Shard, type ShardProgress, type ShardResult } from './shard.js';

export interface ShardHandle {
  ramp(): Promise<{ opened: number; failed: number }>;
  run(startAt: number): Promise<ShardResult>;
  stop(): void;
}

export type ParentMessage = { type: 'start'; options: ShardOptions } | { type: 'go'; startAt: number };
export type ChildMessage =
  | { type: 'progress'; progress: ShardProgress }
  | { type: 'ramped'; opened: number; failed: number }
  | { type: 'result'; result: ShardResult }
  | { type: 'error'; message: string };

export function localShard(options: ShardOptions, onProgress: (p: ShardProgress) => void): ShardHandle {
  const shard = new Shard(options, onProgress);
  return { ramp: () => shard.ramp(), run: (startAt) => shard.run(startAt), stop: () => undefined };
}

const CHILD = new URL('./shard_child.js', import.meta.url);

export function childShard(options: ShardOptions, onProgress: (p: ShardProgress) => void): ShardHandle {
  const child: ChildProcess = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  const waiters: { type: ChildMessage['type']; resolve: (m: ChildMessage) => void; reject: (e: Error) => void }[] = [];
  const failAll = (err: Error) => {
    for (const w of waiters.splice(0)) w.reject(err);
  };
  child.on('message', (raw) => {
    const m = raw as ChildMessage;
    if (m.type === 'progress') return onProgress(m.progress);
    if (m.type === 'error') return failAll(Object.assign(new Error(`load process failed: ${m.message}`), { code: 'INTERNAL' }));
    const i = waiters.findIndex((w) => w.type === m.type);
    if (i >= 0) waiters.splice(i, 1)[0].resolve(m);
  });
  child.on('exit', (code) => failAll(Object.assign(new Error(`load process exited (${code ?? 'signal'})`), { code: 'INTERNAL' })));
  child.on('error', (err) => failAll(err));
  const next = (type: ChildMessage['type']) => new Promise<ChildMessage>((resolve, reject) => waiters.push({ type, resolve, reject }));
  const send = (m: ParentMessage) => child.send(m);
  return {
    async ramp() {
      const p = next('ramped');
      send({ type: 'start', options });
      const m = await p;
      return m.type === 'ramped' ? { opened: m.opened, failed: m.failed } : { opened: 0, failed: 0 };
    },
    async run(startAt) {
      const p = next('result');
      send({ type: 'go', startAt });
      const m = await p;
      if (m.type !== 'result') throw new Error('unexpected message from load process');
      return m.result;
    },
    stop() {
      if (child.exitCode === null) child.kill();
    },
  };
}
