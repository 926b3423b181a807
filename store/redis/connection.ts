import { Redis, type RedisOptions } from 'ioredis';
import { errorMessage, RedisStoreError } from './errors.js';
import { consoleLogger, type RedisHealth, type StoreLogger } from './types.js';

export interface RedisConnectionOptions {
  /** `redis://` or `rediss://` URL, normally from REDIS_URL. */
  url: string;
  /** How long one connection attempt may take. Default 2000. */
  connectTimeoutMs?: number;
  /** How long one command may wait for its reply before it fails. Default 1000. */
  commandTimeoutMs?: number;
  /** Ceiling of the reconnect backoff. Default 2000. */
  maxBackoffMs?: number;
  /** Shown in CLIENT LIST. Default `troupe`. */
  name?: string;
  logger?: StoreLogger;
}

export interface RedisConnectionStats {
  /** Transitions from up to down. */
  degradations: number;
  /** Transitions from down back to up (the first connect is not one). */
  recoveries: number;
  /** 'error' events seen on this connection and its duplicates. */
  errors: number;
}

export type HealthListener = (health: RedisHealth) => void;

const URL_PATTERN = /^rediss?:\/\//;

/**
 * Reconnect delay for attempt `times`: doubles from 50 ms up to `maxMs`. It never
 * gives up: Redis coming back must be noticed without a restart of Troupe.
 */
export function backoffMs(times: number, maxMs: number): number {
  return Math.min(maxMs, 50 * 2 ** Math.min(times, 16));
}

/**
 * One ioredis client plus the health state the degrading components read.
 *
 * The client fails commands at once while disconnected (no offline queue, one
 * retry), so callers fall back to in-process code instead of waiting. 'error'
 * events are always handled here: ioredis emits one per failed reconnect and
 * an unhandled one would crash the process.
 */
export class RedisConnection {
  readonly client: Redis;
  readonly stats: RedisConnectionStats = { degradations: 0, recoveries: 0, errors: 0 };
  readonly #options: RedisConnectionOptions;
  readonly #logger: StoreLogger;
  readonly #listeners = new Set<HealthListener>();
  readonly #duplicates = new Set<Redis>();
  #health: RedisHealth = 'down';
  #everUp = false;
  #warnedUnreachable = false;
  #closed = false;

  /** The logger this connection reports to; caches and stores built on it default to it. */
  get logger(): StoreLogger {
    return this.#logger;
  }

  constructor(options: RedisConnectionOptions) {
    if (typeof options.url !== 'string' || !URL_PATTERN.test(options.url)) {
      throw new RedisStoreError('INVALID_REQUEST', 'Redis url must start with redis:// or rediss://');
    }
    this.#options = options;
    this.#logger = options.logger ?? consoleLogger;
    this.client = createClient(options.url, this.#clientOptions());
    this.client.on('error', (err: unknown) => this.#onError(err));
    this.client.on('ready', () => this.#setHealth('up'));
    this.client.on('close', () => this.#setHealth('down'));
  }

  get health(): RedisHealth {
    return this.#health;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Registers a listener for up/down transitions; returns the unsubscribe function. */
  onHealthChange(listener: HealthListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves true once the connection is up, false if `timeoutMs` passes first. */
  waitUntilUp(timeoutMs: number): Promise<boolean> {
    if (this.#health === 'up') return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(false);
      }, timeoutMs);
      const off = this.onHealthChange((health) => {
        if (health !== 'up') return;
        clearTimeout(timer);
        off();
        resolve(true);
      });
    });
  }

  /**
   * A second client with the same settings, for pub/sub (a subscribed client
   * cannot run other commands). Its errors are counted, never thrown, and it is
   * closed with this connection.
   */
  duplicate(): Redis {
    if (this.#closed) throw new RedisStoreError('UNAVAILABLE', 'Redis connection is closed');
    const copy = this.client.duplicate({ autoResubscribe: false });
    copy.on('error', () => {
      this.stats.errors++;
    });
    copy.on('end', () => this.#duplicates.delete(copy));
    this.#duplicates.add(copy);
    return copy;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const clients = [this.client, ...this.#duplicates];
    this.#duplicates.clear();
    await Promise.all(clients.map(closeClient));
    this.#listeners.clear();
  }

  #clientOptions(): RedisOptions {
    const maxBackoff = this.#options.maxBackoffMs ?? 2000;
    return {
      connectTimeout: this.#options.connectTimeoutMs ?? 2000,
      commandTimeout: this.#options.commandTimeoutMs ?? 1000,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectionName: this.#options.name ?? 'troupe',
      retryStrategy: (times) => backoffMs(times, maxBackoff),
    };
  }

  #onError(err: unknown): void {
    this.stats.errors++;
    // Before the first connect there is no transition to log, but the operator
    // still needs to hear, once, that Troupe runs on its fallbacks.
    if (!this.#everUp && !this.#warnedUnreachable) {
      this.#warnedUnreachable = true;
      this.#logger.warn('redis unreachable; using in-process fallbacks until it answers', {
        error: errorMessage(err),
      });
    }
  }

  #setHealth(next: RedisHealth): void {
    if (next === this.#health) return;
    this.#health = next;
    // A deliberate close is not an outage: nothing to count or announce.
    if (this.#closed) return;
    if (next === 'down') {
      this.stats.degradations++;
      this.#logger.warn('redis connection lost; degrading to in-process fallbacks');
    } else {
      if (this.#everUp) {
        this.stats.recoveries++;
        this.#logger.info('redis connection recovered');
      }
      this.#everUp = true;
    }
    for (const listener of [...this.#listeners]) {
      try {
        listener(next);
      } catch (err) {
        this.#logger.warn('redis health listener threw', { error: errorMessage(err) });
      }
    }
  }
}

function createClient(url: string, options: RedisOptions): Redis {
  try {
    return new Redis(url, options);
  } catch (err) {
    // ioredis parses the url synchronously; its message names the problem but not the code.
    throw new RedisStoreError('INVALID_REQUEST', `invalid Redis url: ${errorMessage(err)}`, { cause: err });
  }
}

/** Quits politely when connected, and waits (bounded) until the client has ended. */
async function closeClient(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  let timer: NodeJS.Timeout | undefined;
  const ended = new Promise<void>((resolve) => {
    client.once('end', resolve);
    // A client between reconnect attempts has no socket left to close.
    timer = setTimeout(resolve, 1000);
  });
  if (client.status === 'ready') {
    await client.quit().catch(() => client.disconnect());
  } else {
    client.disconnect();
  }
  await ended;
  clearTimeout(timer);
}
