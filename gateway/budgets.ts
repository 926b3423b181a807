/**
 * Usage budgets: tokens or USD per tenant or per API key, per UTC day or month.
 * Checked before a run starts (beside the chat rate limit), charged when a run
 * ends with what it used. A run in flight is never cut short, so a budget can
 * be overrun by the runs that were already going when it ran out.
 *
 * Counts live in Redis when it is configured (shared by every gateway; one key
 * per scope, subject, unit and period, expiring when its period ends), and in
 * process otherwise or while Redis is down (store/redis/budget_counter.ts).
 */
import type { BudgetCharge, BudgetCounter } from '../store/redis/index.js';
import { TroupeError, type Caller } from '../transports/index.js';

export interface BudgetSpec {
  scope: 'tenant' | 'key';
  /** A tenant or API key id; absent: each tenant (or key) gets this budget. */
  id?: string;
  limit: number;
  unit: 'tokens' | 'usd';
  period: 'day' | 'month';
}

/** The start of the period after the one `now` is in (UTC). */
export function periodEnd(period: BudgetSpec['period'], now: number): number {
  const d = new Date(now);
  return period === 'day'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

function periodKey(period: BudgetSpec['period'], now: number): string {
  const iso = new Date(now).toISOString();
  return period === 'day' ? iso.slice(0, 10) : iso.slice(0, 7);
}

interface Applicable {
  spec: BudgetSpec;
  subject: string;
  key: string;
  resetsAt: number;
}

export class Budgets {
  readonly #byTenant = new Map<string, BudgetSpec[]>();
  readonly #byKey = new Map<string, BudgetSpec[]>();
  readonly #everyTenant: BudgetSpec[] = [];
  readonly #everyKey: BudgetSpec[] = [];

  constructor(
    specs: readonly BudgetSpec[],
    private readonly counter: BudgetCounter,
    private readonly onExceeded: (scope: BudgetSpec['scope']) => void = () => undefined,
  ) {
    for (const s of specs) {
      if (s.id === undefined) (s.scope === 'tenant' ? this.#everyTenant : this.#everyKey).push(s);
      else {
        const map = s.scope === 'tenant' ? this.#byTenant : this.#byKey;
        map.set(s.id, [...(map.get(s.id) ?? []), s]);
      }
    }
  }

  #applicable(tenant: string, keyId: string | undefined, now: number): Applicable[] {
    const out: Applicable[] = [];
    const add = (spec: BudgetSpec, subject: string) => out.push({
      spec, subject, resetsAt: periodEnd(spec.period, now),
      key: `${spec.scope}:${encodeURIComponent(subject)}:${spec.unit}:${periodKey(spec.period, now)}`,
    });
    for (const s of [...this.#everyTenant, ...(this.#byTenant.get(tenant) ?? [])]) add(s, tenant);
    if (keyId !== undefined) for (const s of [...this.#everyKey, ...(this.#byKey.get(keyId) ?? [])]) add(s, keyId);
    return out;
  }

  /** Throws BUDGET_EXCEEDED (retryAfterMs: until the reset) when any budget of the caller is used up. */
  async check(caller: Caller): Promise<void> {
    const now = Date.now();
    const list = this.#applicable(caller.tenant, caller.keyId, now);
    if (list.length === 0) return;
    const spent = await this.counter.get(list.map((a) => a.key));
    let worst: Applicable | undefined;
    list.forEach((a, i) => {
      if ((spent[i] ?? 0) >= a.spec.limit && (worst === undefined || a.resetsAt > worst.resetsAt)) worst = a;
    });
    if (worst === undefined) return;
    const w: Applicable = worst;
    this.onExceeded(w.spec.scope);
    const amount = w.spec.unit === 'usd' ? `$${w.spec.limit}` : `${w.spec.limit} tokens`;
    throw new TroupeError('BUDGET_EXCEEDED',
      `The ${w.spec.scope === 'tenant' ? 'tenant' : 'API key'} budget of ${amount} per ${w.spec.period} is used up; it resets at ${new Date(w.resetsAt).toISOString()}`,
      { reason: `${w.spec.scope}_budget`, retryAfterMs: Math.max(1, w.resetsAt - now) });
  }

  /** Counts what a finished run used against every budget that applies to it (each counter once). */
  async charge(tenant: string, keyId: string | undefined, tokens: number, usd: number): Promise<void> {
    const charges = new Map<string, BudgetCharge>();
    for (const a of this.#applicable(tenant, keyId, Date.now())) {
      const amount = a.spec.unit === 'usd' ? usd : tokens;
      // Two budgets of one subject, unit and period (e.g. every tenant's and this one's) share a counter.
      if (amount > 0) charges.set(a.key, { key: a.key, amount, expiresAt: a.resetsAt });
    }
    await this.counter.add([...charges.values()]);
  }
}
