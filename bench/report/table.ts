/** The final summary printed after a run: plain aligned text, no colours. */
import type { BenchResult, CompareResult } from './result.js';

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n');
}

const mb = (b: number | undefined) => (b === undefined ? '-' : `${(b / 1024 / 1024).toFixed(1)} MB`);
const f = (n: number | undefined, d = 2) => (n === undefined ? '-' : n.toFixed(d));

export function summaryText(r: BenchResult): string {
  const lines = [`${r.name} -> ${r.target}`];
  const rows: string[][] = [
    ['metric', 'value'],
    ['connections opened / target', `${r.connections.opened} / ${r.connections.target}`],
    ['requests sent (measured)', String(r.requests.sent)],
    ['completed / failed / retryable / lost', `${r.requests.completed} / ${r.requests.failed} / ${r.requests.retryable} / ${r.requests.lost}`],
    ['throughput (completed/s)', f(r.requests.perSec, 1)],
    ['latency p50 / p90 / p99 / max (ms)', `${f(r.latency.p50)} / ${f(r.latency.p90)} / ${f(r.latency.p99)} / ${f(r.latency.max)}`],
  ];
  const cl = r.connections.connectLatency;
  if (cl !== undefined && cl.count > 0) rows.push(['connect latency p50 / p99 (ms)', `${f(cl.p50)} / ${f(cl.p99)}`]);
  if (r.ttft) rows.push(['time to first token p50 / p99 (ms)', `${f(r.ttft.p50)} / ${f(r.ttft.p99)}`]);
  const s = r.server;
  rows.push(
    ['server RSS start / peak / end', `${mb(s.rssStartBytes)} / ${mb(s.rssPeakBytes)} / ${mb(s.rssEndBytes)}`],
    ['server RSS per connection', s.rssPerConnBytes === undefined ? '-' : `${(s.rssPerConnBytes / 1024).toFixed(1)} KiB`],
    ['server CPU (% of a core)', f(s.cpuPercent, 1)],
    ['event-loop lag max (ms)', f(s.eventLoopLagMaxMs)],
    ['mailbox depth max', s.mailboxDepthMax === undefined ? '-' : String(s.mailboxDepthMax)],
    ['worker replacements', s.workerReplacements === undefined ? '-' : String(s.workerReplacements)],
    ['load client CPU (% of a core, processes)', `${f(r.client.cpuPercent, 1)} (${r.client.processes})`],
  );
  lines.push(table(rows));
  const errs = Object.entries(r.errors);
  if (errs.length > 0) lines.push(`errors: ${errs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  if (r.soak) lines.push(`soak: RSS ${r.soak.leak ? 'LEAK' : 'ok'}: fitted growth ${mb(r.soak.growthBytes)} (${mb(r.soak.slopeBytesPerMin)}/min), threshold ${mb(r.soak.thresholdBytes)}`);
  if (r.fault) {
    const x = r.fault;
    lines.push(`fault worker-kill: host ${x.killedHost} at ${x.atSec}s, replacement ${x.replacementMs === null ? 'did not come up' : `${x.replacementMs} ms`}; completed ${x.completed}, retryable ${x.retryable}, failed ${x.failed}, LOST ${x.lost}`);
  }
  return lines.join('\n');
}

export function compareText(c: CompareResult): string {
  const rows = [['test', 'subject', 'reference', 'throughput x', 'p50 x', 'p99 x', '+p50 ms', '+p99 ms']];
  for (const r of c.ratios) {
    rows.push([r.test, r.subject, r.reference, f(r.throughput), f(r.p50), f(r.p99), f(r.addedP50Ms, 3), f(r.addedP99Ms, 3)]);
  }
  const runs = [['run', 'target', 'req/s', 'p50 ms', 'p99 ms', 'errors']];
  for (const r of c.results) {
    runs.push([r.name, r.target, f(r.requests.perSec, 1), f(r.latency.p50), f(r.latency.p99), String(r.requests.failed + r.requests.retryable + r.requests.lost)]);
  }
  return `${table(runs)}\n\n${table(rows)}`;
}
