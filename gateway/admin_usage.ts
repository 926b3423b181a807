/**
 * `troupe usage`: the usage report of GET /v1/usage from the operator's shell,
 * straight from the store (every tenant, or one with --tenant).
 */
import { parseUsageQuery } from '../transports/index.js';
import { AdminUsageError, command, EXIT_OK, withStore, type AdminContext } from './admin_support.js';
import { formatTable } from './table.js';

export interface UsageOptions {
  from?: string;
  to?: string;
  groupBy?: string;
  tenant?: string;
}

export function usageReport(opts: UsageOptions, ctx: AdminContext): Promise<number> {
  return command(ctx, async () => {
    const query = new URLSearchParams();
    if (opts.from !== undefined) query.set('from', opts.from);
    if (opts.to !== undefined) query.set('to', opts.to);
    if (opts.groupBy !== undefined) query.set('group_by', opts.groupBy);
    if (opts.tenant !== undefined) query.set('tenant', opts.tenant);
    let params;
    try {
      params = parseUsageQuery(query.toString());
    } catch (e) {
      const field = (e as { field?: string }).field;
      throw new AdminUsageError(`${(e as Error).message}${field === undefined ? '' : ` (--${field.replace('_', '-')})`}`);
    }
    return withStore(ctx, false, async (store) => {
      const rows = await store.usageSummary(params.tenant, { from: params.from, to: params.to, groupBy: params.groupBy });
      ctx.out(`usage ${params.from.toISOString()} .. ${params.to.toISOString()} by ${params.groupBy}${params.tenant === undefined ? '' : ` (tenant ${params.tenant})`}`);
      if (rows.length === 0) {
        ctx.out('no runs in this range');
        return EXIT_OK;
      }
      const table = rows.map((r) => [
        r.group, String(r.runs), String(r.inputTokens), String(r.outputTokens), String(r.cachedTokens),
        r.costUsd.toFixed(6), r.unpricedRuns === 0 ? '' : `${r.unpricedRuns} unpriced`,
      ]);
      for (const line of formatTable([params.groupBy.toUpperCase(), 'RUNS', 'INPUT', 'OUTPUT', 'CACHED', 'COST USD', ''], table)) ctx.out(line);
      return EXIT_OK;
    });
  });
}
