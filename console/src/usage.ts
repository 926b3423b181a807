/** Usage of the tenant: tokens per day (UTC) as a stacked bar chart, and totals by model. */
import { api } from './api.js';
import { barChart } from './chart.js';
import { errorText, fill, h, notice, table } from './dom.js';
import type { Page } from './page.js';

/** A row of GET /v1/usage (transports/usage.ts UsageSummaryRow: the browser code imports nothing outside console/). */
interface UsageRow {
  group: string;
  runs: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  costUsd: number;
  unpricedRuns: number;
}

const DAY_MS = 86_400_000;

export const usagePage: Page = {
  id: 'usage',
  title: 'Usage',
  async render(root) {
    const range = h('select', { id: 'usage-range', 'aria-label': 'Range' },
      ...[7, 30, 90].map((d) => h('option', { value: d, selected: d === 30 }, `last ${d} days`)));
    const chart = h('div', { id: 'usage-chart' });
    const byModel = h('div', {});
    fill(root, h('h1', {}, 'Usage'), h('div', { class: 'row' }, range,
      h('span', { class: 'legend' }, h('i', { class: 'part-0' }), ' input ', h('i', { class: 'part-1' }), ' output tokens')),
    chart, h('h2', {}, 'By model'), byModel);

    const load = async (): Promise<void> => {
      const days = Number(range.value);
      // Whole UTC days, today included.
      const end = Math.floor(Date.now() / DAY_MS) * DAY_MS + DAY_MS;
      const from = new Date(end - days * DAY_MS).toISOString();
      const to = new Date(end).toISOString();
      try {
        const [perDay, perModel] = await Promise.all([
          api<{ data: UsageRow[] }>('GET', `/v1/usage?from=${from}&to=${to}&group_by=day`),
          api<{ data: UsageRow[] }>('GET', `/v1/usage?from=${from}&to=${to}&group_by=model`),
        ]);
        const rows = new Map(perDay.data.map((r) => [r.group.slice(0, 10), r]));
        const bars = [];
        for (let t = end - days * DAY_MS; t < end; t += DAY_MS) {
          const day = new Date(t).toISOString().slice(0, 10);
          const r = rows.get(day);
          bars.push({
            label: day.slice(5),
            parts: [r?.inputTokens ?? 0, r?.outputTokens ?? 0],
            title: `${day}: ${r?.runs ?? 0} runs, ${r?.inputTokens ?? 0} in / ${r?.outputTokens ?? 0} out tokens, $${(r?.costUsd ?? 0).toFixed(4)}`,
          });
        }
        const total = perDay.data.reduce((a, r) => ({ runs: a.runs + r.runs, cost: a.cost + r.costUsd }), { runs: 0, cost: 0 });
        fill(chart, barChart(bars), h('p', { class: 'muted' }, `${total.runs} runs, $${total.cost.toFixed(4)} in this range.`));
        fill(byModel, table<UsageRow>([
          { title: 'Model', cell: (r) => r.group },
          { title: 'Runs', cell: (r) => r.runs },
          { title: 'Input', cell: (r) => r.inputTokens },
          { title: 'Output', cell: (r) => r.outputTokens },
          { title: 'Cached', cell: (r) => r.cachedTokens },
          { title: 'Cost (USD)', cell: (r) => r.costUsd.toFixed(4) + (r.unpricedRuns > 0 ? ` (${r.unpricedRuns} unpriced)` : '') },
        ], perModel.data, 'No runs in this range.'));
      } catch (err) {
        fill(chart, notice('error', errorText(err)));
        fill(byModel);
      }
    };
    range.addEventListener('change', () => void load());
    await load();
  },
};
