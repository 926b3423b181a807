/**
 * Channel metrics, on the gateway's one registry. `channel` is a configured
 * channel id (bounded by the config); webhooks for unknown ids count under
 * `_unknown`, so a scanner cannot grow the label set.
 *
 * troupe_channel_messages_total{direction="in"} outcomes: received, duplicate,
 * ignored, unsupported, command, denied, pairing, rate_limited, failed, plus
 * the webhook refusals bad_signature, stale, malformed, too_large,
 * unknown_channel, unavailable. direction="out": sent, edited, failed, dropped.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ChannelMetrics {
  messages: Counter<'channel' | 'direction' | 'outcome'>;
  sendSeconds: Histogram<'channel' | 'op'>;
  retries: Counter<'channel' | 'reason'>;
  drops: Counter<'channel' | 'reason'>;
  up: Gauge<'channel' | 'platform'>;
}

export const UNKNOWN_CHANNEL = '_unknown';

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function createChannelMetrics(registry: Registry): ChannelMetrics {
  const registers = [registry];
  return {
    messages: reuse(registry, 'troupe_channel_messages_total', () => new Counter({
      name: 'troupe_channel_messages_total', help: 'Chat-channel messages by channel, direction and outcome',
      labelNames: ['channel', 'direction', 'outcome'], registers,
    })),
    sendSeconds: reuse(registry, 'troupe_channel_send_seconds', () => new Histogram({
      name: 'troupe_channel_send_seconds', help: 'Time for one platform send/edit call, retries included',
      labelNames: ['channel', 'op'], buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers,
    })),
    retries: reuse(registry, 'troupe_channel_retries_total', () => new Counter({
      name: 'troupe_channel_retries_total', help: 'Outbound platform calls retried (429 after retry_after, 5xx with backoff)',
      labelNames: ['channel', 'reason'], registers,
    })),
    drops: reuse(registry, 'troupe_channel_drops_total', () => new Counter({
      name: 'troupe_channel_drops_total', help: 'Outbound messages given up on (audited), by reason',
      labelNames: ['channel', 'reason'], registers,
    })),
    up: reuse(registry, 'troupe_channel_up', () => new Gauge({
      name: 'troupe_channel_up', help: '1 while a channel is started and its credentials were accepted, else 0',
      labelNames: ['channel', 'platform'], registers,
    })),
  };
}
