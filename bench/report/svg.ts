/** A small line chart as inline SVG (no scripts, no CDN): one or more series over time. */

export interface Series {
  label: string;
  color: string;
  points: [number, number][];
}

const W = 720;
const H = 240;
const PAD = { l: 70, r: 16, t: 28, b: 36 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function nice(max: number): number {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

export function lineChart(title: string, unit: string, series: Series[]): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return `<figure><figcaption>${esc(title)}</figcaption><p class="empty">no samples</p></figure>`;
  const minX = Math.min(...all.map((p) => p[0]));
  const maxX = Math.max(...all.map((p) => p[0]), minX + 1);
  const maxY = nice(Math.max(...all.map((p) => p[1])));
  const x = (v: number) => PAD.l + ((v - minX) / (maxX - minX)) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - (v / maxY) * (H - PAD.t - PAD.b);
  const grid: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (maxY * i) / 4;
    grid.push(`<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    grid.push(`<text x="${PAD.l - 6}" y="${y(v) + 4}" text-anchor="end">${+v.toPrecision(3)}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const v = minX + ((maxX - minX) * i) / 4;
    grid.push(`<text x="${x(v)}" y="${H - PAD.b + 16}" text-anchor="middle">${+v.toFixed(1)}s</text>`);
  }
  const lines = series.map((s) => {
    const d = s.points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
    return `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${d}"/>`;
  });
  const legend = series.map((s, i) => `<text x="${PAD.l + i * 140}" y="16" fill="${s.color}">■ ${esc(s.label)}</text>`);
  return `<figure><figcaption>${esc(title)} (${esc(unit)})</figcaption>`
    + `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`
    + `${grid.join('')}${lines.join('')}${legend.join('')}</svg></figure>`;
}
