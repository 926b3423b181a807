/**
 * Live runs and metrics at a glance: /health every two seconds (runs in flight,
 * connections, workers), and a few counters from the Prometheus scrape when the
 * credential may read /metrics.
 */
import { apiText, api } from './api.js';
import { compact, sparkline } from './chart.js';
import { errorText, fill, h, notice } from './dom.js';
import type { Page } from './page.js';

/** Samples kept for the sparklines: two minutes at one per two seconds. */
const SAMPLES = 60;

/** The scrape's lines summed per metric name (labels ignored). */
export function sumMetrics(text: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const v = Number(m[2]);
    if (Number.isFinite(v)) sums.set(m[1], (sums.get(m[1]) ?? 0) + v);
  }
  return sums;
}

const SHOWN: [string, string][] = [
  ['troupe_chat_tokens_total', 'chat tokens'],
  ['troupe_provider_requests_total', 'provider requests'],
  ['troupe_provider_errors_total', 'provider errors'],
  ['troupe_errors_total', 'errors answered'],
  ['troupe_rate_limited_total', 'rate limited'],
  ['troupe_actor_restarts_total', 'actor restarts'],
  ['troupe_actor_dead_letters_total', 'dead letters'],
  ['troupe_worker_replacements_total', 'workers replaced'],
];

export const livePage: Page = {
  id: 'live',
  title: 'Live',
  render(root, ctx) {
    const tiles = h('div', { class: 'tiles', id: 'live-tiles' });
    const metrics = h('div', { id: 'live-metrics' });
    fill(root, h('h1', {}, 'Live'), tiles, h('h2', {}, 'Counters'), metrics);
    const runs: number[] = [];
    const conns: number[] = [];
    const tick = async (): Promise<void> => {
      try {
        const health = await api<Record<string, unknown>>('GET', '/health');
        const backend = (health.backend ?? {}) as Record<string, unknown>;
        push(runs, Number(health.runsInFlight ?? 0));
        push(conns, Number(health.connections ?? 0));
        fill(tiles,
          tile('Runs in flight', runs, 'live-runs'),
          tile('WebSocket connections', conns, 'live-connections'),
          h('div', { class: 'tile' }, h('div', { class: 'label' }, 'Status'), h('div', { class: 'value' }, String(health.status ?? '?')),
            h('div', { class: 'muted' }, `${String(health.engine ?? '')} · v${String(health.version ?? '')} · up ${Math.round(Number(health.uptimeMs ?? 0) / 1000)} s`)),
          h('div', { class: 'tile' }, h('div', { class: 'label' }, 'Workers'), h('div', { class: 'value' }, String(backend.workers ?? '?')),
            h('div', { class: 'muted' }, `${String(backend.sessions ?? 0)} sessions · healthy: ${String(backend.workersHealthy ?? '?')}`)),
        );
      } catch (err) {
        fill(tiles, notice('error', errorText(err)));
      }
      try {
        const sums = sumMetrics(await apiText('/metrics'));
        fill(metrics, h('div', { class: 'tiles' }, ...SHOWN.map(([name, label]) =>
          h('div', { class: 'tile small' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, compact(sums.get(name) ?? 0))))));
      } catch (err) {
        fill(metrics, notice('error', `/metrics: ${errorText(err)}`));
      }
    };
    void tick();
    ctx.every(2000, () => void tick());
  },
};

function push(series: number[], v: number): void {
  series.push(v);
  if (series.length > SAMPLES) series.shift();
}

function tile(label: string, series: number[], id: string): HTMLElement {
  return h('div', { class: 'tile', id },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, String(series[series.length - 1] ?? 0)),
    sparkline(series));
}
