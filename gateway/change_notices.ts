/**
 * "A tenant's definitions changed", between gateway processes that share
 * PostgreSQL and Redis: the process that made a change (admin API) publishes a
 * notice on a Redis channel, and every other process reads the tenant's
 * definitions again and pushes them to its workers. Without Redis there is no
 * other process to tell. A notice sent while a process was not subscribed is
 * lost, so on every (re)subscribe the process reloads everything it holds.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisConnection } from '../store/redis/index.js';

export type ChangeKind = 'agents' | 'providers';

export interface ChangeNotices {
  /** Tells the other processes (never fails: a notice that cannot be sent is logged). */
  publish(kind: ChangeKind, tenant: string): Promise<void>;
  close(): void;
}

export const CHANGES_CHANNEL = 'troupe:changes';

export interface ChangeHandlers {
  /** Another process changed this tenant's definitions. */
  changed(kind: ChangeKind, tenant: string): void;
  /** (Re)subscribed: notices may have been missed; reload all. */
  resync(): void;
  warn(msg: string, err: unknown): void;
}

export function changeNotices(redis: RedisConnection | undefined, on: ChangeHandlers): ChangeNotices {
  if (redis === undefined) return { publish: async () => undefined, close: () => undefined };
  const origin = randomUUID();
  const sub: Redis = redis.duplicate();
  sub.on('ready', () => {
    sub.subscribe(CHANGES_CHANNEL).then(() => on.resync(), (err: unknown) => on.warn('subscribing to change notices failed; retried on reconnect', err));
  });
  sub.on('message', (channel: string, message: string) => {
    if (channel !== CHANGES_CHANNEL) return;
    const n = parse(message);
    if (n !== undefined && n.origin !== origin) on.changed(n.kind, n.tenant);
  });
  return {
    async publish(kind, tenant) {
      try {
        await redis.client.publish(CHANGES_CHANNEL, JSON.stringify({ kind, tenant, origin }));
      } catch (err) {
        on.warn('a change notice did not reach Redis; other gateways see the change when they next reload', err);
      }
    },
    close: () => sub.disconnect(),
  };
}

function parse(message: string): { kind: ChangeKind; tenant: string; origin: string } | undefined {
  try {
    const v = JSON.parse(message) as Record<string, unknown>;
    if ((v.kind === 'agents' || v.kind === 'providers') && typeof v.tenant === 'string' && typeof v.origin === 'string') {
      return { kind: v.kind, tenant: v.tenant, origin: v.origin };
    }
  } catch {
    // not ours
  }
  return undefined;
}
