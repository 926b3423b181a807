import { errorMessage, isInvalidRequest } from './errors.js';
import { consoleLogger, type RateDecision, type RateLimiter, type RedisHealth, type StoreLogger } from './types.js';

/** What DegradingLimiter needs of a connection; RedisConnection fits. */
export interface HealthSource {
  onHealthChange(listener: (health: RedisHealth) => void): () => void;
}

export interface DegradingLimiterOptions {
  /** Called once per switch to the fallback, with the error that caused it. */
  onDegrade?: (err: unknown) => void;
  /** Called once per switch back to the primary. */
  onRecover?: () => void;
  /** While degraded, at most one call per this interval tries the primary. Default 1000. */
  probeIntervalMs?: number;
  /** When given, the first call after the connection comes back up probes at once. */
  connection?: HealthSource;
  logger?: StoreLogger;
}

export interface DegradingLimiterStats {
  degradations: number;
  recoveries: number;
  /** Decisions answered by the fallback. */
  fallbackDecisions: number;
  /** Primary calls that failed (the ones that caused a switch and failed probes). */
  primaryErrors: number;
}

export type LimiterMode = 'primary' | 'fallback';

/**
 * Answers from the primary (Redis) limiter while it works, and from the
 * in-process fallback while it does not. Limits then hold per process instead
 * of across the cluster: weaker, but requests keep flowing.
 *
 * While degraded, one request per probe interval is offered to the primary;
 * the first success switches back. Bad input (INVALID_REQUEST) is the caller's
 * error and is rethrown, never hidden by a fallback.
 */
export class DegradingLimiter implements RateLimiter {
  readonly stats: DegradingLimiterStats = { degradations: 0, recoveries: 0, fallbackDecisions: 0, primaryErrors: 0 };
  readonly #primary: RateLimiter;
  readonly #fallback: RateLimiter;
  readonly #options: DegradingLimiterOptions;
  readonly #logger: StoreLogger;
  readonly #probeIntervalMs: number;
  #mode: LimiterMode = 'primary';
  #nextProbeAt = 0;
  #probing = false;
  readonly #offHealth: () => void;

  constructor(primary: RateLimiter, fallback: RateLimiter, options: DegradingLimiterOptions = {}) {
    this.#primary = primary;
    this.#fallback = fallback;
    this.#options = options;
    this.#logger = options.logger ?? consoleLogger;
    this.#probeIntervalMs = options.probeIntervalMs ?? 1000;
    this.#offHealth =
      options.connection?.onHealthChange((health) => {
        if (health === 'up') this.#nextProbeAt = 0;
      }) ?? (() => undefined);
  }

  get mode(): LimiterMode {
    return this.#mode;
  }

  async take(key: string, cost?: number): Promise<RateDecision> {
    if (this.#mode === 'primary') return this.#takePrimary(key, cost);
    if (!this.#probing && Date.now() >= this.#nextProbeAt) return this.#probe(key, cost);
    return this.#takeFallback(key, cost);
  }

  /** Closes both limiters: the caller hands ownership over with the constructor. */
  async close(): Promise<void> {
    this.#offHealth();
    await Promise.all([this.#primary.close?.(), this.#fallback.close?.()]);
  }

  async #takePrimary(key: string, cost: number | undefined): Promise<RateDecision> {
    try {
      return await this.#primary.take(key, cost);
    } catch (err) {
      if (isInvalidRequest(err)) throw err;
      this.stats.primaryErrors++;
      this.#degrade(err);
      return this.#takeFallback(key, cost);
    }
  }

  async #probe(key: string, cost: number | undefined): Promise<RateDecision> {
    this.#probing = true;
    try {
      const decision = await this.#primary.take(key, cost);
      this.#recover();
      return decision;
    } catch (err) {
      if (isInvalidRequest(err)) throw err;
      this.stats.primaryErrors++;
      this.#nextProbeAt = Date.now() + this.#probeIntervalMs;
      return this.#takeFallback(key, cost);
    } finally {
      this.#probing = false;
    }
  }

  #takeFallback(key: string, cost: number | undefined): Promise<RateDecision> {
    this.stats.fallbackDecisions++;
    return this.#fallback.take(key, cost);
  }

  #degrade(err: unknown): void {
    // Requests already in flight when Redis dropped fail one by one; only the
    // first of them is a switch.
    if (this.#mode === 'fallback') return;
    this.#mode = 'fallback';
    this.#nextProbeAt = Date.now() + this.#probeIntervalMs;
    this.stats.degradations++;
    this.#logger.warn('rate limiter degraded to in-process fallback', { error: errorMessage(err) });
    this.#notify(() => this.#options.onDegrade?.(err));
  }

  #recover(): void {
    if (this.#mode === 'primary') return;
    this.#mode = 'primary';
    this.stats.recoveries++;
    this.#logger.info('rate limiter back on redis');
    this.#notify(() => this.#options.onRecover?.());
  }

  #notify(callback: () => void): void {
    try {
      callback();
    } catch (err) {
      this.#logger.warn('rate limiter callback threw', { error: errorMessage(err) });
    }
  }
}
