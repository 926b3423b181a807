/**
 * `--report out.html`: one self-contained page (inline CSS and SVG, no
 * scripts, nothing fetched) with the summary, throughput and latency
 * percentiles over time, and the server's RSS, CPU and lag samples.
 */
import type { BenchResult, CompareResult } from './result.js';
import { lineChart } from './svg.js';
import { compareText, summaryText } from './table.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function section(r: BenchResult): string {
  const tl = r.timeline;
  const samples = r.server.samples;
  const t0 = samples.find((s) => s.phase === 'measure')?.t ?? 0;
  const serverPts = (f: (s: (typeof samples)[number]) => number | undefined, scale = 1): [number, number][] =>
    samples.flatMap((s) => {
      const v = f(s);
      return v === undefined ? [] : [[s.t - t0, v * scale] as [number, number]];
    });
  const cpuPts: [number, number][] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    if (a.cpuSeconds !== undefined && b.cpuSeconds !== undefined && b.t > a.t) cpuPts.push([b.t - t0, ((b.cpuSeconds - a.cpuSeconds) / (b.t - a.t)) * 100]);
  }
  return `<section><h2>${esc(r.name)}</h2><pre>${esc(summaryText(r))}</pre>`
    + lineChart('Throughput', 'completed requests/s', [
      { label: 'req/s', color: '#1f77b4', points: tl.map((p) => [p.t, p.rps]) },
      { label: 'errors', color: '#d62728', points: tl.map((p) => [p.t, p.errors]) },
    ])
    + lineChart('Latency percentiles', 'ms', [
      { label: 'p50', color: '#2ca02c', points: tl.map((p) => [p.t, p.p50]) },
      { label: 'p99', color: '#ff7f0e', points: tl.map((p) => [p.t, p.p99]) },
    ])
    + lineChart('Server RSS', 'MB, t=0 at the measured window', [
      { label: 'RSS', color: '#9467bd', points: serverPts((s) => s.rssBytes, 1 / 1024 / 1024) },
    ])
    + lineChart('Server CPU and event-loop lag', '% of a core / ms', [
      { label: 'CPU %', color: '#8c564b', points: cpuPts },
      { label: 'lag ms', color: '#e377c2', points: serverPts((s) => s.eventLoopLagMs) },
    ])
    + '</section>';
}

export function renderHtml(doc: BenchResult | CompareResult): string {
  const results = doc.kind === 'compare' ? doc.results : [doc];
  const head = doc.kind === 'compare' ? `<section><h2>Ratios</h2><pre>${esc(compareText(doc))}</pre></section>` : '';
  return `<!doctype html><html><head><meta charset="utf-8"><title>Troupe benchmark ${esc(doc.startedAt)}</title>`
    + '<style>body{font-family:sans-serif;margin:24px;max-width:800px}pre{background:#f6f6f6;padding:8px;font-size:12px;overflow:auto}'
    + 'figure{margin:12px 0}figcaption{font-weight:bold;margin-bottom:4px}.empty{color:#888}</style></head><body>'
    + `<h1>Troupe benchmark</h1><p>started ${esc(doc.startedAt)}</p>${head}${results.map(section).join('')}`
    + `<details><summary>raw JSON</summary><pre>${esc(JSON.stringify(doc, null, 2))}</pre></details></body></html>`;
}
