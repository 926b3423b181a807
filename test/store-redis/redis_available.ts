/**
 * Decides whether the Redis suites run. Elsewhere they skip with a reason that
 * says "needs Redis"; under CI=true an unreachable Redis is a failure, never a
 * skip.
 */
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';

export const REDIS_URL = process.env.TROUPE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** True when a Redis answers PING at `url` within `timeoutMs`. */
export function redisAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 6379) });
    let reply = '';
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
    socket.on('error', () => finish(false));
  });
}

function orFailInCi(reason: string): string {
  if (process.env.CI === 'true') throw new Error(`CI=true but the suite cannot run: ${reason}`);
  return reason;
}

/** `false` when the shared Redis is reachable, else the skip reason. */
export async function redisSkipReason(url = REDIS_URL): Promise<string | false> {
  if (await redisAnswers(url)) return false;
  return orFailInCi(`needs Redis at ${url}`);
}

/** `false` when `redis-server` can be started by a test, else the skip reason. */
export function redisServerSkipReason(): string | false {
  const probe = spawnSync('redis-server', ['--version'], { timeout: 5000 });
  if (probe.status === 0) return false;
  return orFailInCi('needs Redis: redis-server is not on PATH');
}
