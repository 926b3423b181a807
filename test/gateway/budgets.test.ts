// Budgets, prices, label caps and the recorder's metrics on their own (the in-process counter; Redis is
// covered end to end in usage.test.ts).
import t from 'tap';
import { Budgets, periodEnd } from '../../gateway/budgets.js';
import { LabelCap } from '../../gateway/label_cap.js';
import { costOf } from '../../gateway/pricing.js';
import { UsageRecorder } from '../../gateway/usage_recorder.js';
import { rootLog } from '../../observability/log.js';
import { LocalBudgetCounter } from '../../store/redis/index.js';
import { Registry } from 'prom-client';
import { TroupeError } from '../../transports/index.js';

const refusal = async (work: Promise<void>): Promise<TroupeError | undefined> => {
  try {
    await work;
    return undefined;
  } catch (err) {
    return err as TroupeError;
  }
};

t.test('a period ends at the next UTC midnight, or the first of the next month', async (t) => {
  const now = Date.UTC(2026, 11, 31, 23, 59, 59);
  t.equal(new Date(periodEnd('day', now)).toISOString(), '2027-01-01T00:00:00.000Z');
  t.equal(new Date(periodEnd('month', Date.UTC(2026, 1, 14, 12))).toISOString(), '2026-03-01T00:00:00.000Z');
});

t.test('a budget refuses once used up, says when it resets, and leaves others alone', async (t) => {
  const exceeded: string[] = [];
  const budgets = new Budgets([
    { scope: 'tenant', id: 'acme', limit: 100, unit: 'tokens', period: 'day' },
    { scope: 'key', limit: 0.5, unit: 'usd', period: 'month' },
  ], new LocalBudgetCounter(), (scope) => exceeded.push(scope));
  await budgets.check({ tenant: 'acme', user: 'u' });
  await budgets.charge('acme', undefined, 99, 0);
  await budgets.check({ tenant: 'acme', user: 'u' });
  await budgets.charge('acme', undefined, 1, 0);
  const e = await refusal(budgets.check({ tenant: 'acme', user: 'u' }));
  t.match(e, { code: 'BUDGET_EXCEEDED', reason: 'tenant_budget', message: /100 tokens per day .* resets at \d{4}-\d\d-\d\dT00:00:00\.000Z/ });
  t.ok((e?.retryAfterMs ?? 0) > 0 && (e?.retryAfterMs ?? 0) <= 86_400_000, 'retryAfterMs is at most a day');
  await budgets.check({ tenant: 'other', user: 'u' });
  // Every API key gets $0.50 a month of its own.
  await budgets.charge('other', 'k1', 10, 0.5);
  t.match(await refusal(budgets.check({ tenant: 'other', user: 'u', keyId: 'k1' })), { code: 'BUDGET_EXCEEDED', reason: 'key_budget', message: /\$0\.5 per month/ });
  await budgets.check({ tenant: 'other', user: 'u', keyId: 'k2' });
  await budgets.check({ tenant: 'other', user: 'u' });
  t.same(exceeded, ['tenant', 'key']);
});

t.test('two budgets of one subject, unit and period share a counter and are charged once', async (t) => {
  const counter = new LocalBudgetCounter();
  const budgets = new Budgets([
    { scope: 'tenant', limit: 1000, unit: 'tokens', period: 'day' },
    { scope: 'tenant', id: 'acme', limit: 50, unit: 'tokens', period: 'day' },
  ], counter);
  await budgets.charge('acme', undefined, 30, 0);
  const key = `tenant:acme:tokens:${new Date().toISOString().slice(0, 10)}`;
  t.same(await counter.get([key]), [30]);
  await budgets.check({ tenant: 'acme', user: 'u' });
});

t.test('prices: per million tokens, cached input at its own rate, unknown models cost 0 and are flagged', async (t) => {
  const table = { m: { input: 2, output: 8, cached: 0.5 }, plain: { input: 1, output: 1 } };
  t.same(costOf(table, 'm', { inputTokens: 1_000_000, outputTokens: 500_000, cachedTokens: 400_000 }), { costUsd: 1.2 + 0.2 + 4, priced: true });
  t.same(costOf(table, 'plain', { inputTokens: 10, outputTokens: 10, cachedTokens: 10 }), { costUsd: 20 / 1e6, priced: true });
  t.same(costOf(table, 'mystery', { inputTokens: 10, outputTokens: 10, cachedTokens: 0 }), { costUsd: 0, priced: false });
  t.same(costOf(table, 'constructor', { inputTokens: 10, outputTokens: 10, cachedTokens: 0 }), { costUsd: 0, priced: false }, 'not fooled by prototype names');
});

t.test('a label cap names the first values and reports the rest as other', async (t) => {
  const cap = new LabelCap(2);
  t.same(['a', 'b', 'c', 'a', 'd', 'b'].map((v) => cap.label(v)), ['a', 'b', 'other', 'a', 'other', 'b']);
});

t.test('the usage metrics name the first tenants and models and count the rest as other', async (t) => {
  const registry = new Registry();
  const usage = new UsageRecorder({
    pricing: { m1: { input: 1, output: 1 } }, budgets: [], counter: new LocalBudgetCounter(), agents: [{ id: 'a', model: 'm1', provider: { kind: 'simulated' } }],
    defaultAgent: undefined, registry, log: rootLog().child({ component: 'test' }), maxLabelValues: 1,
  });
  const end = (tenant: string, model: string) => usage.runEnded({
    runId: 'r', caller: { tenant, user: 'u' }, agent: undefined, outcome: 'ok', usage: { inputTokens: 10, outputTokens: 5 }, provider: 'p', model, latencyMs: 1,
  });
  end('acme', 'm1');
  end('globex', 'm2');
  end('initech', 'm1');
  const text = await registry.metrics();
  t.match(text, 'troupe_usage_tokens_total{tenant="acme",model="m1",kind="input"} 10');
  t.match(text, 'troupe_usage_tokens_total{tenant="other",model="other",kind="output"} 5', 'a second tenant and model: other');
  t.match(text, 'troupe_usage_tokens_total{tenant="other",model="m1",kind="input"} 10');
  t.match(text, 'troupe_usage_unpriced_runs_total{model="other"} 1', 'm2 has no price; its label is capped too');
  t.notMatch(text, /globex|initech|m2/);
  await t.rejects(usage.summarize({ tenant: 'acme', from: new Date(0), to: new Date(), groupBy: 'model' }), { code: 'NOT_FOUND', reason: 'no_usage_store' });
});
