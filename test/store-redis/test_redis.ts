/** Shared pieces for the Redis suites: unique key prefixes, cleanup, a private server. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { Redis } from 'ioredis';
import type { Test } from 'tap';
import { RedisConnection } from '../../store/redis/connection.js';
import type { StoreLogger } from '../../store/redis/types.js';
import { REDIS_URL, redisAnswers } from './redis_available.js';
import { TcpProxy } from './tcp_proxy.js';

/** A key prefix no other test (or engineer) uses. */
export function uniquePrefix(): string {
  return `troupe-test:${randomUUID()}:`;
}

/** Deletes every key under `prefix`; bounded by the number of SCAN rounds. */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  for (let round = 0; round < 1000; round++) {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 200);
    if (keys.length > 0) await client.del(...keys);
    cursor = next;
    if (cursor === '0') return;
  }
}

/**
 * A connection to the shared Redis, up, with a fresh key prefix; the test's
 * teardown deletes the prefix's keys and closes the connection.
 */
export async function connectForTest(t: Test, url = REDIS_URL): Promise<{ connection: RedisConnection; prefix: string }> {
  const connection = new RedisConnection({ url, logger: recordingLogger().logger });
  const prefix = uniquePrefix();
  t.teardown(async () => {
    if (connection.health === 'up') await deleteKeys(connection.client, prefix);
    await connection.close();
  });
  if (!(await connection.waitUntilUp(5000))) throw new Error(`redis at ${url} did not come up`);
  return { connection, prefix };
}

/**
 * A connection to the shared Redis through a TcpProxy the test can cut and
 * restore; reconnects are quick (50 ms backoff ceiling).
 */
export async function connectThroughProxy(t: Test): Promise<{ proxy: TcpProxy; connection: RedisConnection }> {
  const proxy = await TcpProxy.start(Number(new URL(REDIS_URL).port || 6379));
  t.teardown(() => proxy.cut());
  const connection = new RedisConnection({ url: proxy.url, logger: recordingLogger().logger, maxBackoffMs: 50 });
  t.teardown(() => connection.close());
  if (!(await connection.waitUntilUp(5000))) throw new Error('redis did not come up through the proxy');
  return { proxy, connection };
}

export interface LogLine {
  level: 'info' | 'warn';
  message: string;
}

export function recordingLogger(): { logger: StoreLogger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    logger: {
      info: (message) => lines.push({ level: 'info', message }),
      warn: (message) => lines.push({ level: 'warn', message }),
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` every `stepMs` until it is true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  return check();
}

/**
 * A redis-server child owned by one test, so the test may kill it without
 * touching the machine's shared Redis. No persistence: a restart is empty.
 */
export class RedisServerProcess {
  readonly port: number;
  #child: ChildProcess | undefined;

  private constructor(port: number) {
    this.port = port;
  }

  static async start(): Promise<RedisServerProcess> {
    const server = new RedisServerProcess(await freePort());
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server on the same port and waits until it answers PING. */
  async restart(): Promise<void> {
    if (this.#child !== undefined) throw new Error('redis-server is already running');
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    this.#child = child;
    child.once('exit', () => {
      if (this.#child === child) this.#child = undefined;
    });
    if (!(await waitFor(() => redisAnswers(this.url, 200), 5000, 50))) {
      await this.stop();
      throw new Error(`redis-server did not answer on port ${this.port}`);
    }
  }

  /** Kills the server (SIGKILL, like a crash) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}
