/**
 * A circuit breaker for one upstream (provider, credential). Plain state, an
 * injected clock, no timers: the provider actor asks it before each admission
 * and reports each outcome.
 *
 *        N consecutive failures              cool-down elapsed, one probe admitted
 *   closed ───────────────────────▶ open ─────────────────────────────▶ half_open
 *     ▲                              ▲                                    │
 *     │ probe succeeded              └──────── probe failed ──────────────┤
 *     └───────────────────────────────────────────────────────────────────┘
 *
 * While half-open exactly one request (the probe) is in flight; everything else
 * is refused until it reports, so a sick upstream sees one request per cool-down.
 */

import { nonNegative, positiveInt } from './validate.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. Default 5. */
  readonly failureThreshold?: number;
  /** How long it stays open before a probe is let through. Default 30 s. */
  readonly coolDownMs?: number;
}

export const DEFAULT_FAILURE_THRESHOLD = 5;
export const DEFAULT_COOL_DOWN_MS = 30_000;

/** What admission may do now: pass normally, pass as the single probe, or not pass. */
export type BreakerVerdict = 'pass' | 'probe' | 'reject';

export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly coolDownMs: number;
  private consecutiveFailures = 0;
  private openedAt = 0;
  private current: BreakerState = 'closed';
  private probeInFlight = false;

  constructor(options: BreakerOptions = {}, private readonly now: () => number = Date.now) {
    this.failureThreshold = positiveInt(options.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD, 'failureThreshold');
    this.coolDownMs = nonNegative(options.coolDownMs ?? DEFAULT_COOL_DOWN_MS, 'coolDownMs');
  }

  /** The state as of now: an open breaker whose cool-down passed reads half-open. */
  get state(): BreakerState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.coolDownMs) return 'half_open';
    return this.current;
  }

  get failures(): number {
    return this.consecutiveFailures;
  }

  /** Milliseconds until a probe may be sent; 0 unless the breaker is open. */
  retryInMs(): number {
    if (this.current !== 'open') return 0;
    return Math.max(0, this.openedAt + this.coolDownMs - this.now());
  }

  /** Decides one admission. A 'probe' verdict must be followed by an outcome report. */
  admit(): BreakerVerdict {
    const state = this.state;
    if (state === 'closed') return 'pass';
    if (state === 'open' || this.probeInFlight) return 'reject';
    this.current = 'half_open';
    this.probeInFlight = true;
    return 'probe';
  }

  onSuccess(): void {
    this.consecutiveFailures = 0;
    this.probeInFlight = false;
    this.current = 'closed';
  }

  /**
   * `wasProbe` tells the probe's own failure, which reopens the breaker, from a
   * late failure of a request admitted before it opened, which only counts.
   */
  onFailure(wasProbe = false): void {
    this.consecutiveFailures++;
    if (wasProbe) this.probeInFlight = false;
    if (wasProbe || (this.current === 'closed' && this.consecutiveFailures >= this.failureThreshold)) {
      this.current = 'open';
      this.openedAt = this.now();
    }
  }

  /**
   * An outcome that says nothing about the upstream's health (the caller
   * aborted): a probe slot is handed back so another request can probe.
   */
  onNeutral(wasProbe: boolean): void {
    if (wasProbe) this.probeInFlight = false;
  }
}
