/**
 * callWithFailover: what an agent calls to stream one reply through an ordered
 * chain of (provider, model) entries. For each attempt it gets a permit from
 * the entry's provider actor, streams from the upstream itself, pushing every
 * event to the caller's sink as it arrives, and reports the outcome. Failures
 * before the first token are retried (same entry, with backoff) or failed over
 * (next entry) by error kind; after the first token they are reported as is.
 */
import { endSpan, modelCall, modelEvent } from '../model_span.js';
import type { Context } from '../../observability/tracing.js';
import { ProviderError, type ChatRequest, type StopReason, type StreamEvent, type UsageEvent } from '../../providers/index.js';
import type { ActorRef } from '../../runtime/index.js';
import type { Outcome, Permit, ProviderMessage } from './actor.js';
import { AdmissionError, ChainConfigError } from './errors.js';
import { decide, DEFAULT_RETRY, failoverTarget, type RetryOptions } from './policy.js';
import type { ProviderRegistry } from './registry.js';

export interface ChainEntry {
  readonly providerId: string;
  readonly model: string;
  /** The model's context window in tokens; a context overflow fails over only to a larger one. */
  readonly contextTokens?: number;
}

export type ProviderChain = readonly ChainEntry[];

/** Receives each event as it arrives. It must not throw; if it does, the call fails with that error. */
export type StreamSink = (event: StreamEvent) => void;

export interface CallOptions {
  readonly retry?: RetryOptions;
  /** For tests: the jitter's random source. */
  readonly random?: () => number;
  /** Extra wait allowed on the permit ask beyond the actor's own queue timeout. Default 1 000 ms. */
  readonly askMarginMs?: number;
  /** The context each attempt's model span starts under (default: the current one, which an await loses). */
  readonly trace?: Context;
}

export interface CallResult {
  readonly providerId: string;
  readonly model: string;
  readonly usage?: UsageEvent;
  readonly stop?: StopReason;
  /** Upstream attempts made, retries and failovers included. */
  readonly attempts: number;
  readonly failovers: number;
}

/** Chain entries at most: every entry may cost a full set of retries. */
export const MAX_CHAIN_LENGTH = 8;
const CHARS_PER_TOKEN = 4;
const DEFAULT_OUTPUT_ESTIMATE = 512;
const DEFAULT_ASK_MARGIN_MS = 1_000;
const DEFAULT_QUEUE_TIMEOUT_MS = 30_000;

export async function callWithFailover(
  registry: ProviderRegistry,
  chain: ProviderChain,
  request: Omit<ChatRequest, 'model'>,
  sink: StreamSink,
  options: CallOptions = {},
): Promise<CallResult> {
  checkChain(registry, chain);
  const retry = options.retry ?? DEFAULT_RETRY;
  const metrics = registry.metrics;
  const signal = request.signal;
  const estimate = estimateTokens(request);
  let index = 0;
  let retries = 0;
  let attempts = 0;
  let failovers = 0;
  for (;;) {
    const entry = chain[index];
    const { providerId, model } = entry;
    if (signal?.aborted) throw aborted(providerId, signal.reason);
    let error: ProviderError;
    let streamed = false;
    try {
      const permit = await acquire(registry, entry, estimate, signal, options.askMarginMs);
      attempts++;
      metrics.request(providerId, model);
      const attempt = new Attempt(registry.actor(providerId), permit, sink);
      const { call, span } = modelCall(permit.provider, model, request, options.trace);
      try {
        const started = Date.now();
        for await (const event of permit.provider.stream(call)) {
          modelEvent(span, event);
          if (attempt.push(event)) metrics.firstToken(providerId, model, Date.now() - started);
        }
        attempt.finish();
        endSpan(span);
        const usage = attempt.usage;
        if (usage !== undefined) metrics.tokens(providerId, model, usage.inputTokens, usage.outputTokens);
        attempt.release('success');
        return { providerId, model, usage, stop: attempt.stop, attempts, failovers };
      } catch (err) {
        endSpan(span, err);
        streamed = attempt.streamed;
        if (attempt.sinkError !== undefined) {
          attempt.release('aborted');
          throw attempt.sinkError;
        }
        error = classify(providerId, err, signal);
        metrics.error(providerId, model, error.kind);
        attempt.release(error.kind, error.retryAfterMs);
      }
    } catch (err) {
      if (signal?.aborted) throw aborted(providerId, signal.reason);
      if (!(err instanceof AdmissionError)) throw err;
      error = err;
    }
    const next = failoverTarget(chain, index, error.kind);
    const decision = decide({ kind: error.kind, retryAfterMs: error.retryAfterMs, retries, streamed, canFailOver: next !== -1 }, retry, options.random);
    if (decision.action === 'fail') throw error;
    if (decision.action === 'retry') {
      metrics.retry(providerId, model);
      retries++;
      await sleep(decision.delayMs, signal, providerId);
    } else {
      metrics.failover(providerId, model);
      failovers++;
      index = next;
      retries = 0;
    }
  }
}

/** One upstream attempt: forwards events, remembers usage and stop, releases its permit once. */
class Attempt {
  streamed = false;
  usage: UsageEvent | undefined;
  stop: StopReason | undefined;
  sinkError: unknown;
  /** Events that came before the first token, held so a retried attempt leaves no trace. */
  private held: StreamEvent[] = [];
  private released = false;

  constructor(
    private readonly actor: ActorRef<ProviderMessage>,
    private readonly permit: Permit,
    private readonly sink: StreamSink,
  ) {}

  /** Returns true for the first token (text or tool call). */
  push(event: StreamEvent): boolean {
    if (event.type === 'usage') this.usage = event;
    else if (event.type === 'stop') this.stop = event.reason;
    if (!this.streamed && event.type !== 'text' && event.type !== 'tool_call') {
      this.held.push(event);
      return false;
    }
    const first = !this.streamed;
    this.streamed = true;
    this.flush();
    this.emit(event);
    return first;
  }

  finish(): void {
    this.flush();
  }

  release(outcome: Outcome, retryAfterMs?: number): void {
    if (this.released) return;
    this.released = true;
    const tokens = this.usage === undefined ? undefined : this.usage.inputTokens + this.usage.outputTokens;
    // Stamped now, before the caller's own backoff starts, so that backoff always outlasts the pause.
    const retryAt = retryAfterMs === undefined ? undefined : Date.now() + retryAfterMs;
    this.actor.tell({ t: 'release', id: this.permit.id, outcome, tokens, retryAt });
  }

  private flush(): void {
    const held = this.held;
    if (held.length === 0) return;
    this.held = [];
    for (const event of held) this.emit(event);
  }

  private emit(event: StreamEvent): void {
    try {
      this.sink(event);
    } catch (err) {
      this.sinkError = err;
      throw err;
    }
  }
}

function acquire(
  registry: ProviderRegistry,
  entry: ChainEntry,
  estimate: number,
  signal: AbortSignal | undefined,
  marginMs = DEFAULT_ASK_MARGIN_MS,
): Promise<Permit> {
  const queueTimeoutMs = registry.spec(entry.providerId).limits?.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS;
  // The actor times waiters out itself; the ask's own deadline is only a backstop.
  return registry.actor(entry.providerId).ask<Permit>(
    { t: 'acquire', model: entry.model, estimateTokens: estimate, ...(signal === undefined ? {} : { signal }) },
    { timeoutMs: queueTimeoutMs + marginMs },
  );
}

function checkChain(registry: ProviderRegistry, chain: ProviderChain): void {
  if (chain.length === 0) throw new ChainConfigError('the provider chain is empty');
  if (chain.length > MAX_CHAIN_LENGTH) throw new ChainConfigError(`a chain has at most ${MAX_CHAIN_LENGTH} entries, got ${chain.length}`);
  for (const entry of chain) {
    if (!registry.has(entry.providerId)) throw new ChainConfigError(`unknown provider ${JSON.stringify(entry.providerId)} in the chain`);
    if (typeof entry.model !== 'string' || entry.model === '') throw new ChainConfigError(`chain entry ${entry.providerId} needs a model`);
  }
}

/** A rough upper bound for TPM admission: prompt characters / 4 plus the output budget. */
export function estimateTokens(request: Omit<ChatRequest, 'model'>): number {
  let chars = 0;
  for (const message of request.messages) {
    if (typeof message.content === 'string') chars += message.content.length;
    else for (const part of message.content) chars += part.text.length;
  }
  return Math.ceil(chars / CHARS_PER_TOKEN) + (request.maxTokens ?? DEFAULT_OUTPUT_ESTIMATE);
}

function classify(providerId: string, err: unknown, signal: AbortSignal | undefined): ProviderError {
  if (err instanceof ProviderError) return err;
  if (signal?.aborted) return aborted(providerId, err);
  const message = err instanceof Error ? err.message : String(err);
  return new ProviderError('network', providerId, message, { cause: err });
}

function aborted(providerId: string, cause: unknown): ProviderError {
  return new ProviderError('aborted', providerId, 'request aborted by the caller', { cause });
}

function sleep(ms: number, signal: AbortSignal | undefined, providerId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(aborted(providerId, signal.reason));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(aborted(providerId, signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
