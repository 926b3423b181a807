/**
 * The Prometheus registry the gateway serves on /metrics: prom-client's default
 * process metrics plus the runtime's (read from a snapshot at scrape time, so
 * the hot paths only bump plain numbers).
 */
import client, { Registry } from 'prom-client';
import type { ProviderHostMessage } from '../actors/provider/host.js';
import type { ModelMetricsSnapshot, ProviderMetricsSnapshot } from '../actors/provider/metrics.js';
import type { InjectionCount, ToolHostMessage, ToolHostMetrics } from '../actors/tool_host.js';
import type { InjectionFamily, ScreenAction } from '../security/injection.js';
import type { ActorRef, ActorSystem, HostMetricsSnapshot } from '../runtime/index.js';
import type { SpanCounts } from '../observability/span_batch.js';
import { tracingCounts } from '../observability/tracing.js';

const HOST_COUNTERS: [keyof HostMetricsSnapshot, string, string][] = [
  ['processed', 'troupe_actor_messages_processed_total', 'Messages handled by actors'],
  ['deadLetters', 'troupe_actor_dead_letters_total', 'Messages sent to actors that were not running'],
  ['dropped', 'troupe_actor_messages_dropped_total', 'Messages dropped by full mailboxes or unreachable hosts'],
  ['restarts', 'troupe_actor_restarts_total', 'Actor restarts by supervisors'],
  ['failures', 'troupe_actor_failures_total', 'Actor handler failures'],
  ['escalations', 'troupe_actor_escalations_total', 'Restart-intensity escalations'],
  ['rejected', 'troupe_actor_tells_returned_total', 'Tells another thread\'s full mailbox refused and sent back to this host'],
  ['linkRejected', 'troupe_link_rejected_total', 'Tells and asks refused because the link to their thread was full (OVERLOADED)'],
  ['unconfirmed', 'troupe_link_unconfirmed_total', 'Messages sent to a worker that died before confirming it had taken them (it may have handled some)'],
];

const HOST_GAUGES: [keyof HostMetricsSnapshot, string, string][] = [
  ['actors', 'troupe_actors', 'Live actors'],
  ['mailboxDepth', 'troupe_actor_mailbox_depth', 'Messages waiting in mailboxes'],
  ['eventLoopUtilization', 'troupe_host_event_loop_utilization', 'Event-loop utilisation of the host thread (0..1)'],
  ['linkQueueDepth', 'troupe_link_queue_depth', 'Messages this host sent to other threads that they have not yet taken off the link'],
];

const MISNAMED_DEFAULT_GAUGES = [
  'troupe_nodejs_active_handles_total', 'troupe_nodejs_active_requests_total', 'troupe_nodejs_active_resources_total',
];

/**
 * Prompt-injection matches: the main thread's (user input) are counted here;
 * the workers' (tool output) are read from their tool hosts at scrape time.
 */
export class InjectionCounter {
  readonly #local = new Map<string, InjectionCount>();
  readonly #remote: (() => Promise<InjectionCount[]>)[] = [];

  inc(family: InjectionFamily, source: string, action: ScreenAction): void {
    const key = `${family}\u0000${source}\u0000${action}`;
    const entry = this.#local.get(key) ?? { family, source, action, count: 0 };
    entry.count++;
    this.#local.set(key, entry);
  }

  /** Adds a source of counts kept elsewhere (the tool hosts). */
  addSource(read: () => Promise<InjectionCount[]>): void {
    this.#remote.push(read);
  }

  async all(): Promise<InjectionCount[]> {
    const remote = await Promise.all(this.#remote.map((read) => read()));
    return [...this.#local.values(), ...remote.flat()];
  }
}

export interface GatewayCounters {
  injectionMatches: InjectionCounter;
}

/** Asks every host for its snapshot, at most once per 100 ms (one scrape reads many metrics); a host that does not answer is left out. */
function cachedAskAll<M, S>(hosts: readonly ActorRef<M>[], message: M): () => Promise<S[]> {
  let cached: Promise<S[]> | undefined;
  let cachedAt = 0;
  return () => {
    if (cached === undefined || Date.now() - cachedAt > 100) {
      cachedAt = Date.now();
      cached = Promise.all(hosts.map((h) => h.ask<S>(message, { timeoutMs: 1_000 }).catch(() => undefined)))
        .then((all) => all.filter((s): s is Awaited<S> => s !== undefined));
    }
    return cached;
  };
}

export function createRegistry(system: ActorSystem): Registry & { troupe: GatewayCounters } {
  const registry = new Registry() as Registry & { troupe: GatewayCounters };
  const injectionMatches = new InjectionCounter();
  registry.troupe = { injectionMatches };
  new client.Counter({
    name: 'troupe_injection_matches_total', help: 'Prompt-injection pattern matches by family, source (user, tool:<name>) and configured action',
    labelNames: ['family', 'source', 'action'], registers: [registry],
    async collect() {
      this.reset();
      for (const c of await injectionMatches.all()) this.inc({ family: c.family, source: c.source, action: c.action }, c.count);
    },
  });
  client.collectDefaultMetrics({ register: registry, prefix: 'troupe_' });
  // prom-client names three gauges `*_total`, which Prometheus reserves for counters (promtool flags them).
  // The per-type gauges beside them hold the same numbers: sum() them for the total.
  for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(name);
  let snap = system.metricsSnapshot();
  let snapAt = 0;
  const fresh = () => {
    // One snapshot per scrape, shared by every metric below.
    if (Date.now() - snapAt > 100) {
      snap = system.metricsSnapshot();
      snapAt = Date.now();
    }
    return snap;
  };
  for (const [field, name, help] of HOST_COUNTERS) {
    new client.Counter({
      name, help, labelNames: ['host'], registers: [registry],
      collect() {
        this.reset();
        for (const h of fresh().hosts) this.inc({ host: String(h.host) }, h[field] as number);
      },
    });
  }
  for (const [field, name, help] of HOST_GAUGES) {
    new client.Gauge({
      name, help, labelNames: ['host'], registers: [registry],
      collect() {
        for (const h of fresh().hosts) this.set({ host: String(h.host) }, h[field] as number);
      },
    });
  }
  new client.Gauge({
    name: 'troupe_host_event_loop_lag_seconds', help: 'Event-loop delay p99 per host thread', labelNames: ['host'], registers: [registry],
    collect() {
      for (const h of fresh().hosts) this.set({ host: String(h.host) }, h.eventLoopLagMs / 1000);
    },
  });
  new client.Counter({
    name: 'troupe_worker_replacements_total', help: 'Actor worker threads replaced after dying', registers: [registry],
    collect() {
      this.reset();
      this.inc(fresh().workerReplacements);
    },
  });
  new client.Gauge({
    name: 'troupe_pending_asks', help: 'Asks awaiting a reply on the main thread', registers: [registry],
    collect() {
      this.set(fresh().pendingAsks);
    },
  });
  return registry;
}

/**
 * Provider metrics per provider and model, summed over the workers' provider
 * hosts, asked for at scrape time: requests, errors by class, retries,
 * failovers, tokens in and out, and the breaker state (the worst worker's).
 */
export function registerProviderMetrics(registry: Registry, hosts: readonly ActorRef<ProviderHostMessage>[]): void {
  if (hosts.length === 0) return;
  const snapshots = cachedAskAll<ProviderHostMessage, ProviderMetricsSnapshot>(hosts, { t: 'metrics' });
  const perModel = (name: string, help: string, value: (m: ModelMetricsSnapshot) => number) => new client.Counter({
    name, help, labelNames: ['provider', 'model'], registers: [registry],
    async collect() {
      this.reset();
      for (const s of await snapshots()) for (const m of s.models) this.inc({ provider: m.provider, model: m.model }, value(m));
    },
  });
  perModel('troupe_provider_requests_total', 'Upstream requests (attempts, retries included)', (m) => m.requests);
  perModel('troupe_provider_retries_total', 'Retries before the first token', (m) => m.retries);
  perModel('troupe_provider_failovers_total', 'Times the chain moved past this entry', (m) => m.failovers);
  perModel('troupe_provider_tokens_in_total', 'Prompt tokens', (m) => m.tokensIn);
  perModel('troupe_provider_tokens_out_total', 'Completion tokens', (m) => m.tokensOut);
  new client.Counter({
    name: 'troupe_provider_errors_total', help: 'Upstream errors by class', labelNames: ['provider', 'model', 'kind'], registers: [registry],
    async collect() {
      this.reset();
      for (const s of await snapshots()) {
        for (const m of s.models) for (const [kind, n] of Object.entries(m.errors)) this.inc({ provider: m.provider, model: m.model, kind }, n ?? 0);
      }
    },
  });
  new client.Gauge({
    name: 'troupe_provider_breaker_state', help: 'Circuit breaker: 0 closed, 1 half-open, 2 open (worst worker)', labelNames: ['provider'], registers: [registry],
    async collect() {
      this.reset();
      const worst = new Map<string, number>();
      for (const s of await snapshots()) for (const p of s.providers) worst.set(p.provider, Math.max(worst.get(p.provider) ?? 0, p.breakerGauge));
      for (const [provider, v] of worst) this.set({ provider }, v);
    },
  });
  new client.Counter({
    name: 'troupe_provider_first_tokens_total', help: 'Streams that produced a first token (divide troupe_provider_ttft_seconds_total by it for the mean)', labelNames: ['provider', 'model'], registers: [registry],
    async collect() {
      this.reset();
      for (const s of await snapshots()) for (const m of s.models) this.inc({ provider: m.provider, model: m.model }, m.ttftCount);
    },
  });
  new client.Counter({
    name: 'troupe_provider_ttft_seconds_total', help: 'Sum of times to first token, seconds', labelNames: ['provider', 'model'], registers: [registry],
    async collect() {
      this.reset();
      for (const s of await snapshots()) for (const m of s.models) this.inc({ provider: m.provider, model: m.model }, m.ttftSumMs / 1000);
    },
  });
}

/**
 * Span export per thread (main here, workers through their trace-count
 * actors): spans exported, and spans dropped because the queue was full or
 * the collector did not take them. A collector that is down shows up here,
 * never in request latency.
 */
export function registerTracingMetrics(registry: Registry, workerCounts: readonly ActorRef<'counts'>[]): void {
  const remote = cachedAskAll<'counts', SpanCounts>(workerCounts, 'counts');
  const all = async (): Promise<SpanCounts[]> => [tracingCounts(), ...(await remote())];
  new client.Counter({
    name: 'troupe_trace_spans_exported_total', help: 'Spans the OTLP collector accepted', registers: [registry],
    async collect() {
      this.reset();
      for (const c of await all()) this.inc(c.exported);
    },
  });
  new client.Counter({
    name: 'troupe_trace_spans_dropped_total', help: 'Spans not exported: queue_full (the export queue was full) or export_failed (the collector refused, was unreachable or too slow)',
    labelNames: ['reason'], registers: [registry],
    async collect() {
      this.reset();
      let queueFull = 0;
      let exportFailed = 0;
      for (const c of await all()) {
        queueFull += c.queueFull;
        exportFailed += c.exportFailed;
      }
      this.inc({ reason: 'queue_full' }, queueFull);
      this.inc({ reason: 'export_failed' }, exportFailed);
    },
  });
}

/** Injection matches in tool output, counted by each worker's tool host, join the main thread's in troupe_injection_matches_total. */
export function registerToolMetrics(registry: Registry & { troupe: GatewayCounters }, hosts: readonly ActorRef<ToolHostMessage>[]): void {
  if (hosts.length === 0) return;
  const snapshots = cachedAskAll<ToolHostMessage, ToolHostMetrics>(hosts, { t: 'metrics' });
  registry.troupe.injectionMatches.addSource(async () => (await snapshots()).flatMap((s) => s.injection));
}
