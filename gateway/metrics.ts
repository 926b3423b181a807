/**
 * The Prometheus registry the gateway serves on /metrics: prom-client's default
 * process metrics plus the runtime's (read from a snapshot at scrape time, so
 * the hot paths only bump plain numbers).
 */
import client, { Registry } from 'prom-client';
import type { ActorSystem, HostMetricsSnapshot } from '../runtime/index.js';

const HOST_COUNTERS: [keyof HostMetricsSnapshot, string, string][] = [
  ['processed', 'troupe_actor_messages_processed_total', 'Messages handled by actors'],
  ['deadLetters', 'troupe_actor_dead_letters_total', 'Messages sent to actors that were not running'],
  ['dropped', 'troupe_actor_messages_dropped_total', 'Messages dropped by full mailboxes or unreachable hosts'],
  ['restarts', 'troupe_actor_restarts_total', 'Actor restarts by supervisors'],
  ['failures', 'troupe_actor_failures_total', 'Actor handler failures'],
  ['escalations', 'troupe_actor_escalations_total', 'Restart-intensity escalations'],
];

const HOST_GAUGES: [keyof HostMetricsSnapshot, string, string][] = [
  ['actors', 'troupe_actors', 'Live actors'],
  ['mailboxDepth', 'troupe_actor_mailbox_depth', 'Messages waiting in mailboxes'],
  ['eventLoopUtilization', 'troupe_host_event_loop_utilization', 'Event-loop utilisation of the host thread (0..1)'],
];

export interface GatewayCounters {
  injectionMatches: client.Counter<'family' | 'source' | 'action'>;
}

export function createRegistry(system: ActorSystem): Registry & { troupe: GatewayCounters } {
  const registry = new Registry() as Registry & { troupe: GatewayCounters };
  registry.troupe = {
    injectionMatches: new client.Counter({
      name: 'troupe_injection_matches_total', help: 'Prompt-injection pattern matches by family, source and configured action',
      labelNames: ['family', 'source', 'action'], registers: [registry],
    }),
  };
  client.collectDefaultMetrics({ register: registry, prefix: 'troupe_' });
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
