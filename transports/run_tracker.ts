/**
 * Knows every chat run in flight, whichever transport started it. It wraps the
 * transport's event sink to time the run (first token, whole turn), count
 * tokens, and notice the run's end, which graceful shutdown waits for.
 */
import type { Caller, ChatEventMap, ChatEventName, EventSink } from '../actors/chat_contract.js';
import type { GatewayMetrics, Transport } from './metrics.js';

export class TrackedRun {
  runId: string | undefined;
  private firstTokenSeen = false;
  private done = false;
  readonly sink: EventSink;

  constructor(
    readonly transport: Transport,
    readonly principal: Caller,
    deliver: EventSink,
    private readonly tracker: RunTracker,
    private readonly startedAt: number,
  ) {
    this.sink = <E extends ChatEventName>(event: E, payload: ChatEventMap[E]): void => {
      if (this.done) return; // one terminal event per run; later ones are backend bugs
      this.observe(event, payload);
      deliver(event, payload);
    };
  }

  get finished(): boolean {
    return this.done;
  }

  /** The backend refused the run (chatSend rejected): nothing will stream. */
  fail(): void {
    this.finish();
  }

  private observe<E extends ChatEventName>(event: E, payload: ChatEventMap[E]): void {
    const m = this.tracker.metrics;
    const elapsed = (performance.now() - this.startedAt) / 1000;
    if (event === 'chat.delta' && !this.firstTokenSeen) {
      this.firstTokenSeen = true;
      m.timeToFirstToken.observe({ transport: this.transport }, elapsed);
    } else if (event === 'chat.final') {
      m.chatTurnDuration.observe({ transport: this.transport }, elapsed);
      const usage = (payload as ChatEventMap['chat.final']).usage;
      if (usage !== undefined) {
        if (usage.inputTokens > 0) m.tokens.inc({ direction: 'input' }, usage.inputTokens);
        if (usage.outputTokens > 0) m.tokens.inc({ direction: 'output' }, usage.outputTokens);
      }
      this.finish();
    } else if (event === 'chat.error') {
      this.finish();
    }
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.tracker.release(this);
  }
}

export class RunTracker {
  private readonly runs = new Set<TrackedRun>();
  private idleWaiters: (() => void)[] = [];

  constructor(readonly metrics: GatewayMetrics) {}

  get size(): number {
    return this.runs.size;
  }

  start(transport: Transport, principal: Caller, deliver: EventSink): TrackedRun {
    const run = new TrackedRun(transport, principal, deliver, this, performance.now());
    this.runs.add(run);
    this.metrics.inFlightRuns.inc();
    return run;
  }

  /** Runs still going, for aborting them when the shutdown deadline passes. */
  active(): TrackedRun[] {
    return [...this.runs];
  }

  /** Resolves true once no run is in flight, or false when `timeoutMs` passes first. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.runs.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== onIdle);
        resolve(false);
      }, timeoutMs);
      const onIdle = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(onIdle);
    });
  }

  /** Called by TrackedRun when it ends. */
  release(run: TrackedRun): void {
    if (!this.runs.delete(run)) return;
    this.metrics.inFlightRuns.dec();
    if (this.runs.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
