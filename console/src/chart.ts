/** Small inline SVG charts: drawn with attributes and classes only (the CSP allows no inline styles). */
import { svg } from './dom.js';

export interface Bar {
  label: string;
  /** Stacked parts, bottom first; each gets the class `part-<i>`. */
  parts: number[];
  title: string;
}

/** A stacked bar chart, `width` × `height` in viewBox units, scaled to the tallest bar. */
export function barChart(bars: readonly Bar[], width = 720, height = 220): SVGElement {
  const pad = { left: 48, right: 8, top: 8, bottom: 28 };
  const max = Math.max(1, ...bars.map((b) => b.parts.reduce((a, v) => a + v, 0)));
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const step = plotW / Math.max(1, bars.length);
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img' });
  for (const frac of [0, 0.5, 1]) {
    const y = pad.top + plotH * (1 - frac);
    chart.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: 'grid' }));
    chart.append(svg('text', { x: pad.left - 6, y: y + 4, class: 'axis', 'text-anchor': 'end' }, compact(max * frac)));
  }
  const labelEvery = Math.ceil(bars.length / 12);
  bars.forEach((b, i) => {
    const x = pad.left + i * step + step * 0.15;
    let y = pad.top + plotH;
    const g = svg('g', { class: 'bar' }, svg('title', {}, b.title));
    b.parts.forEach((v, j) => {
      const hgt = (v / max) * plotH;
      y -= hgt;
      g.append(svg('rect', { x, y, width: Math.max(1, step * 0.7), height: hgt, class: `part-${j}` }));
    });
    chart.append(g);
    if (i % labelEvery === 0) {
      chart.append(svg('text', { x: x + step * 0.35, y: height - 8, class: 'axis', 'text-anchor': 'middle' }, b.label));
    }
  });
  return chart;
}

/** A line of the last values (oldest first), for live numbers. */
export function sparkline(values: readonly number[], width = 240, height = 48): SVGElement {
  const max = Math.max(1, ...values);
  const step = width / Math.max(1, values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`).join(' ');
  return svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'sparkline', role: 'img' }, svg('polyline', { points }));
}

export function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)}k`;
  return String(Math.round(n));
}
