/**
 * The provider actor: one per (provider, credential) per worker thread, an
 * admission controller. A caller asks it for a permit; it answers when the
 * concurrency limit, the RPM and TPM buckets and the circuit breaker all allow
 * one, in arrival order, and the caller then streams from the upstream itself
 * and tells the actor the outcome. Tokens never pass through the mailbox, so
 * streaming costs no message per token, and every handler here is synchronous:
 * "one message at a time" holds without a handler ever waiting on the network.
 *
 * Messages carry functions and AbortSignals, so the actor must live on the
 * caller's thread (spawned locally, see registry.ts).
 */
import { createProvider, type Provider, type ProviderConfig } from '../../providers/index.js';
import type { ActorContext, Behavior, Replier } from '../../runtime/index.js';
import { CircuitBreaker, type BreakerOptions } from './breaker.js';
import { AdmissionError } from './errors.js';
import { breakerGauge, type ProviderMetrics, type ProviderStateSnapshot } from './metrics.js';
import { RateWindow } from './rate.js';
import { positive, positiveInt } from './validate.js';
import type { ProviderErrorKind } from '../../providers/index.js';

export interface ProviderLimits {
  /** Requests in flight at once. Default 16. */
  readonly concurrency?: number;
  /** Requests per window (per minute by default). Unlimited when absent. */
  readonly rpm?: number;
  /** Tokens (input + output) per window. Unlimited when absent. */
  readonly tpm?: number;
  /** The RPM/TPM window. Default 60 000 ms. */
  readonly windowMs?: number;
  /** Callers waiting for a permit at most; more are refused. Default 1 000. */
  readonly maxQueue?: number;
  /** How long a caller may wait for a permit. Default 30 000 ms. */
  readonly queueTimeoutMs?: number;
}

export interface ProviderSpec {
  /** The name chains and metrics use, e.g. 'openai-main'. */
  readonly id: string;
  readonly config: ProviderConfig;
  readonly limits?: ProviderLimits;
  readonly breaker?: BreakerOptions & {
    /** Error kinds that count as failures. Default: overloaded, timeout, network, auth. */
    readonly tripOn?: readonly ProviderErrorKind[];
  };
}

export const DEFAULT_CONCURRENCY = 16;
export const DEFAULT_MAX_QUEUE = 1_000;
export const DEFAULT_QUEUE_TIMEOUT_MS = 30_000;
export const DEFAULT_TRIP_ON: readonly ProviderErrorKind[] = ['overloaded', 'timeout', 'network', 'auth'];
/** A pause this close to its end counts as over: timers and clocks disagree by a millisecond or so. */
const PAUSE_SLACK_MS = 10;

/** What a permit-holder tells the actor when the attempt ends. */
export type Outcome = 'success' | ProviderErrorKind;

export interface Permit {
  readonly id: number;
  readonly provider: Provider;
  /** Whether this request is the breaker's half-open probe. */
  readonly probe: boolean;
}

export type ProviderMessage =
  | { readonly t: 'acquire'; readonly model: string; readonly estimateTokens: number; readonly signal?: AbortSignal }
  | {
      readonly t: 'release';
      readonly id: number;
      readonly outcome: Outcome;
      readonly tokens?: number;
      /**
       * When the upstream's Retry-After ends (epoch ms, stamped by the caller
       * when the error arrived) on a rate_limited outcome: nobody is admitted
       * before then.
       */
      readonly retryAt?: number;
    }
  | { readonly t: 'state' }
  | { readonly t: 'wake' };

export interface ProviderActorArgs {
  readonly spec: ProviderSpec;
  readonly metrics: ProviderMetrics;
  /** Injected for tests; Date.now otherwise. */
  readonly now?: () => number;
  /** Builds the upstream client; createProvider otherwise. */
  readonly make?: (config: ProviderConfig) => Provider;
}

interface Waiter {
  readonly model: string;
  readonly estimate: number;
  readonly replier: Replier;
  readonly signal: AbortSignal | undefined;
  readonly deadline: number;
  /** Wakes the actor when the caller gives up waiting; removed once the waiter leaves. */
  readonly onAbort: () => void;
}

interface Held {
  readonly estimate: number;
  readonly probe: boolean;
}

/** Kinds that prove the upstream answered sensibly: they close a breaker like a success. */
const HEALTHY_KINDS: ReadonlySet<Outcome> = new Set(['success', 'bad_request', 'context_overflow']);

export function providerActor(args: ProviderActorArgs): Behavior<ProviderMessage> {
  const { spec, metrics } = args;
  const now = args.now ?? Date.now;
  const limits = spec.limits ?? {};
  const concurrency = positiveInt(limits.concurrency ?? DEFAULT_CONCURRENCY, 'concurrency');
  const maxQueue = positiveInt(limits.maxQueue ?? DEFAULT_MAX_QUEUE, 'maxQueue');
  const queueTimeoutMs = positive(limits.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS, 'queueTimeoutMs');
  const rpm = limits.rpm === undefined ? undefined : new RateWindow({ limit: limits.rpm, windowMs: limits.windowMs }, now);
  const tpm = limits.tpm === undefined ? undefined : new RateWindow({ limit: limits.tpm, windowMs: limits.windowMs }, now);
  const breaker = new CircuitBreaker(spec.breaker, now);
  const tripOn = new Set(spec.breaker?.tripOn ?? DEFAULT_TRIP_ON);
  const held = new Map<number, Held>();
  const queue: Waiter[] = [];
  let provider: Provider | undefined;
  let nextId = 1;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Infinity;
  let unwatch: (() => void) | undefined;
  let pausedUntil = 0;

  const state = (): ProviderStateSnapshot => {
    const b = breaker.state;
    return { provider: spec.id, breaker: b, breakerGauge: breakerGauge(b), inFlight: held.size, queued: queue.length };
  };

  const leave = (w: Waiter): void => {
    w.signal?.removeEventListener('abort', w.onAbort);
  };

  const refuse = (w: Waiter, error: AdmissionError): void => {
    leave(w);
    metrics.rejected(spec.id, w.model, error.reason);
    w.replier.reject(error);
  };

  const circuitOpen = (): AdmissionError =>
    new AdmissionError('circuit_open', spec.id, 'circuit breaker is open', breaker.retryInMs());

  /** Why nobody may be admitted now, whatever the limits say; undefined when someone may. */
  const closedNow = (): AdmissionError | undefined => {
    if (breaker.state === 'open') return circuitOpen();
    const pause = pausedUntil - now();
    if (pause > PAUSE_SLACK_MS) return new AdmissionError('rate_paused', spec.id, 'the upstream asked to wait (Retry-After)', pause);
    return undefined;
  };

  const wakeAt = (ctx: ActorContext<ProviderMessage>, at: number): void => {
    if (at >= timerAt) return;
    clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(() => {
      timer = undefined;
      timerAt = Infinity;
      ctx.self.tell({ t: 'wake' });
    }, Math.max(0, at - now()));
    timer.unref();
  };

  const grant = (w: Waiter, probe: boolean): void => {
    leave(w);
    try {
      provider ??= (args.make ?? createProvider)(spec.config);
    } catch (err) {
      breaker.onNeutral(probe);
      w.replier.reject(err); // bad configuration (ProviderConfigError, INVALID_REQUEST)
      return;
    }
    rpm?.tryTake(1);
    tpm?.tryTake(w.estimate);
    const id = nextId++;
    held.set(id, { estimate: w.estimate, probe });
    w.replier.resolve({ id, provider, probe } satisfies Permit);
  };

  /** Admits waiters in order until one has to wait; refuses the ones that cannot be served. */
  const pump = (ctx: ActorContext<ProviderMessage>): void => {
    const t = now();
    for (let i = queue.length - 1; i >= 0; i--) {
      const w = queue[i];
      if (w.signal?.aborted) {
        queue.splice(i, 1);
        leave(w);
        w.replier.reject(w.signal.reason);
      } else if (w.deadline <= t) {
        queue.splice(i, 1);
        refuse(w, new AdmissionError('queue_timeout', spec.id, `no permit within ${queueTimeoutMs} ms`));
      }
    }
    while (queue.length > 0) {
      const w = queue[0];
      const closed = closedNow();
      if (closed !== undefined) {
        queue.shift();
        refuse(w, closed);
        continue;
      }
      if (held.size >= concurrency) break;
      const wait = Math.max(rpm?.waitMs(1) ?? 0, tpm?.waitMs(w.estimate) ?? 0);
      if (wait > 0) {
        wakeAt(ctx, t + wait);
        break;
      }
      queue.shift();
      const verdict = breaker.admit();
      if (verdict === 'reject') refuse(w, circuitOpen());
      else grant(w, verdict === 'probe');
    }
    if (queue.length > 0) wakeAt(ctx, queue[0].deadline);
  };

  const release = (msg: Extract<ProviderMessage, { t: 'release' }>): void => {
    const { outcome, tokens, retryAt } = msg;
    const h = held.get(msg.id);
    if (h === undefined) return; // a permit from before a restart, or released twice
    held.delete(msg.id);
    if (outcome === 'rate_limited' && retryAt !== undefined) pausedUntil = Math.max(pausedUntil, retryAt);
    if (tokens !== undefined) tpm?.settle(tokens - h.estimate);
    if (HEALTHY_KINDS.has(outcome)) breaker.onSuccess();
    else if (tripOn.has(outcome as ProviderErrorKind)) breaker.onFailure(h.probe);
    else breaker.onNeutral(h.probe);
  };

  return {
    preStart() {
      unwatch = metrics.watch(spec.id, state);
    },
    receive(msg, ctx) {
      switch (msg.t) {
        case 'acquire': {
          const replier = ctx.deferReply();
          if (replier === undefined) return undefined; // a told acquire has nobody to answer
          const estimate = Number.isFinite(msg.estimateTokens) ? Math.max(1, Math.ceil(msg.estimateTokens)) : 1;
          const onAbort = (): void => ctx.self.tell({ t: 'wake' });
          const w: Waiter = { model: msg.model, estimate, replier, signal: msg.signal, deadline: now() + queueTimeoutMs, onAbort };
          const closed = closedNow();
          if (closed !== undefined) refuse(w, closed);
          else if (queue.length >= maxQueue) refuse(w, new AdmissionError('queue_full', spec.id, `${maxQueue} callers already waiting`));
          else {
            queue.push(w);
            msg.signal?.addEventListener('abort', onAbort, { once: true });
            pump(ctx);
          }
          return undefined;
        }
        case 'release':
          release(msg);
          pump(ctx);
          return undefined;
        case 'wake':
          pump(ctx);
          return undefined;
        case 'state':
          return state();
        default:
          return undefined;
      }
    },
    postStop() {
      clearTimeout(timer);
      unwatch?.();
      for (const w of queue.splice(0)) refuse(w, new AdmissionError('queue_timeout', spec.id, 'the provider actor stopped'));
    },
  };
}
