/**
 * Front-door metrics, registered on the registry the composition root injects
 * (so the gateway exposes one /metrics for every layer). Metrics already
 * registered under the same name are reused, which lets several front doors
 * (tests, blue/green) share a registry.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type Transport = 'ws' | 'http' | 'channel';

/**
 * A per-frame count by wire protocol, bumped as a plain number on the frame
 * path (a labelled `inc` hashes its labels on every call) and read into its
 * counter when /metrics is scraped.
 */
export interface ProtocolTally {
  json: number;
  msgpack: number;
}

/** The tally behind each tallied counter, so front doors sharing a registry share it too. */
const TALLIES = new WeakMap<object, ProtocolTally>();

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const TURN_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export interface GatewayMetrics {
  connections: Gauge<string>;
  framesIn: ProtocolTally;
  framesOut: ProtocolTally;
  bytesIn: ProtocolTally;
  requestDuration: Histogram<'transport' | 'method'>;
  chatTurnDuration: Histogram<'transport'>;
  timeToFirstToken: Histogram<'transport'>;
  tokens: Counter<'direction'>;
  rateLimited: Counter<'limiter'>;
  errors: Counter<'transport' | 'code'>;
  slowConsumerCloses: Counter<string>;
  queuedBytes: Gauge<string>;
  inFlightRuns: Gauge<string>;
}

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  const existing = registry.getSingleMetric(name);
  return existing === undefined ? make() : (existing as T);
}

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: L[]): Counter<L> =>
    reuse(registry, name, () => new Counter<L>({ name, help, labelNames, registers }));
  const gauge = <L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> =>
    reuse(registry, name, () => new Gauge<L>({ name, help, labelNames, registers }));
  const tallied = (name: string, help: string): ProtocolTally => {
    const existing = registry.getSingleMetric(name);
    const shared = existing === undefined ? undefined : TALLIES.get(existing);
    if (shared !== undefined) return shared;
    const tally: ProtocolTally = { json: 0, msgpack: 0 };
    const metric = new Counter<'protocol'>({
      name, help, labelNames: ['protocol'], registers,
      collect() {
        this.reset();
        if (tally.json > 0) this.inc({ protocol: 'json' }, tally.json);
        if (tally.msgpack > 0) this.inc({ protocol: 'msgpack' }, tally.msgpack);
      },
    });
    TALLIES.set(metric, tally);
    return tally;
  };
  const histogram = <L extends string>(name: string, help: string, labelNames: L[], buckets: number[]): Histogram<L> =>
    reuse(registry, name, () => new Histogram<L>({ name, help, labelNames, buckets, registers }));

  return {
    connections: gauge('troupe_ws_connections', 'Open WebSocket connections', []),
    framesIn: tallied('troupe_ws_frames_in_total', 'WebSocket frames received'),
    framesOut: tallied('troupe_ws_frames_out_total', 'WebSocket frames sent'),
    bytesIn: tallied('troupe_ws_received_bytes_total', 'WebSocket payload bytes received'),
    requestDuration: histogram(
      'troupe_request_duration_seconds', 'Time to answer a request, by transport and method',
      ['transport', 'method'], LATENCY_BUCKETS,
    ),
    chatTurnDuration: histogram('troupe_chat_turn_duration_seconds', 'Chat run duration, send to final', ['transport'], TURN_BUCKETS),
    timeToFirstToken: histogram('troupe_chat_time_to_first_token_seconds', 'Chat send to first delta', ['transport'], TURN_BUCKETS),
    tokens: counter('troupe_chat_tokens_total', 'LLM tokens reported by finished runs', ['direction']),
    rateLimited: counter('troupe_rate_limited_total', 'Requests refused by a rate limiter', ['limiter']),
    errors: counter('troupe_errors_total', 'Errors returned to clients, by catalogue code', ['transport', 'code']),
    slowConsumerCloses: counter('troupe_ws_slow_consumer_closes_total', 'Connections closed because the client did not read', []),
    queuedBytes: gauge('troupe_ws_send_queue_bytes', 'Bytes waiting in per-connection send queues', []),
    inFlightRuns: gauge('troupe_chat_runs_in_flight', 'Chat runs started and not yet final', []),
  };
}
