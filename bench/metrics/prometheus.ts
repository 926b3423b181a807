/**
 * Reads the few series the benchmarks need out of Prometheus text. Series
 * with labels (one per actor host) are summed, or maxed for lag.
 */

export interface ScrapedValues {
  rssBytes?: number;
  cpuSeconds?: number;
  eventLoopLagMs?: number;
  mailboxDepth?: number;
  workerReplacements?: number;
}

/** Values of every sample of `name` (any labels). */
function values(text: string, name: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const v = Number(rest.slice(rest.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) out.push(v);
  }
  return out;
}

const sum = (xs: number[]): number | undefined => (xs.length === 0 ? undefined : xs.reduce((a, b) => a + b, 0));
const max = (xs: number[]): number | undefined => (xs.length === 0 ? undefined : Math.max(...xs));

export function parseMetrics(text: string): ScrapedValues {
  const lagMain = max(values(text, 'troupe_nodejs_eventloop_lag_p99_seconds'));
  const lagHosts = max(values(text, 'troupe_host_event_loop_lag_seconds'));
  const lag = max([lagMain, lagHosts].filter((v): v is number => v !== undefined));
  const out: ScrapedValues = {
    rssBytes: sum(values(text, 'troupe_process_resident_memory_bytes')),
    cpuSeconds: sum(values(text, 'troupe_process_cpu_seconds_total')),
    eventLoopLagMs: lag === undefined ? undefined : Math.round(lag * 1_000_000) / 1000,
    mailboxDepth: sum(values(text, 'troupe_actor_mailbox_depth')),
    workerReplacements: sum(values(text, 'troupe_worker_replacements_total')),
  };
  for (const k of Object.keys(out) as (keyof ScrapedValues)[]) if (out[k] === undefined) delete out[k];
  return out;
}
