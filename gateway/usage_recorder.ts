/**
 * Usage recording: what every finished run used, priced, counted, charged to
 * budgets and written to the store. The front door's startRun reports each
 * run's end here, whichever door (WS, HTTP, channel) started it.
 *
 *   startRun (run ends) ─► UsageRecorder.runEnded ─┬─► Prometheus counters (tenant, model; capped)
 *                                                  ├─► Budgets.charge (Redis or in process)
 *                                                  └─► the store worker ─► usage_events
 *                                                        (write-behind, batched per tenant, like the audit)
 *
 * A usage row is also the turn's record: who (user, key, address), which
 * session, how it ended. The audit log keeps no per-turn row, so a turn costs
 * the store one row here instead of two (bench/RESULTS.md, issue 12).
 *
 * Nothing here sits on a run's path. `summarize` serves GET /v1/usage.
 */
import client, { type Registry } from 'prom-client';
import type { AgentConfig } from '../actors/protocol.js';
import type { Log } from '../observability/log.js';
import type { UsageEvent, UsageQuery, UsageRow } from '../store/index.js';
import type { BudgetCounter } from '../store/redis/index.js';
import { TroupeError, type BudgetGate, type RunEnd, type UsageLedger, type UsageSummaryQuery, type UsageSummaryRow } from '../transports/index.js';
import { Budgets, type BudgetSpec } from './budgets.js';
import { LabelCap } from './label_cap.js';
import { costOf, type PriceTable } from './pricing.js';

export interface UsageRecorderOptions {
  pricing: PriceTable;
  budgets: readonly BudgetSpec[];
  /** Where budgets count (Redis, or in process). */
  counter: BudgetCounter;
  /** The agents the backend runs, and the one a run that names none gets. */
  agents: readonly AgentConfig[];
  defaultAgent: string | undefined;
  registry: Registry;
  log: Log;
  /** Absent (TROUPE_STORE=none): usage is counted and charged, not kept. */
  store?: UsageStore;
  /** Distinct tenants and models named in metric labels; the rest are `other`. Default 100 each. */
  maxLabelValues?: number;
}

/** Where usage rows go: the store worker's client (gateway/store_client.ts). */
export interface UsageStore {
  /** Queues one row (write-behind). */
  usage(tenant: string, event: UsageEvent): void;
  /** Writes every queued row. */
  flush(timeoutMs: number): Promise<void>;
  usageSummary(tenant: string | undefined, query: UsageQuery): Promise<UsageRow[]>;
}

/** The provider and model an agent is configured with (a chain's first entry). */
function configuredModel(agent: AgentConfig | undefined): { provider: string; model: string } {
  const first = agent?.chain?.[0];
  if (first !== undefined) return { provider: first.providerId, model: first.model };
  return { provider: agent?.provider?.kind ?? 'unknown', model: agent?.model ?? 'unknown' };
}

/** Longest wait for queued rows to be written before a summary. */
const SUMMARY_FLUSH_MS = 30_000;

const count = (v: number | undefined): number => (v !== undefined && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

export class UsageRecorder implements UsageLedger {
  /** Checked before each run by the front door; undefined when no budget is configured. */
  readonly gate: BudgetGate | undefined;
  readonly #budgets: Budgets | undefined;
  readonly #agents: Map<string, AgentConfig>;
  readonly #defaultAgent: string;
  readonly #tenants: LabelCap;
  readonly #models: LabelCap;
  readonly #tokens: client.Counter<'tenant' | 'model' | 'kind'>;
  readonly #cost: client.Counter<'tenant' | 'model'>;
  readonly #unpriced: client.Counter<'model'>;
  readonly #warnedUnpriced = new Set<string>();

  constructor(private readonly opts: UsageRecorderOptions) {
    this.#agents = new Map(opts.agents.map((a) => [a.id, a]));
    this.#defaultAgent = opts.defaultAgent ?? opts.agents[0]?.id ?? 'unknown';
    const cap = opts.maxLabelValues ?? 100;
    this.#tenants = new LabelCap(cap);
    this.#models = new LabelCap(cap);
    const registers = [opts.registry];
    this.#tokens = new client.Counter({
      name: 'troupe_usage_tokens_total', help: 'Tokens used by finished runs, by tenant, model and kind (input, output; cached is the part of input read from a prompt cache)',
      labelNames: ['tenant', 'model', 'kind'], registers,
    });
    this.#cost = new client.Counter({
      name: 'troupe_usage_cost_usd_total', help: 'Cost of finished runs in US dollars, from the price table', labelNames: ['tenant', 'model'], registers,
    });
    this.#unpriced = new client.Counter({
      name: 'troupe_usage_unpriced_runs_total', help: 'Finished runs whose model has no price (counted at cost 0)', labelNames: ['model'], registers,
    });
    const exceeded = new client.Counter({
      name: 'troupe_budget_exceeded_total', help: 'Runs refused because a usage budget was used up, by scope (tenant, key)', labelNames: ['scope'], registers,
    });
    // Zero series from the start, so alert rules and dashboards see the metric before the first refusal.
    for (const scope of ['tenant', 'key']) exceeded.inc({ scope }, 0);
    this.#budgets = opts.budgets.length === 0 ? undefined : new Budgets(opts.budgets, opts.counter, (scope) => exceeded.inc({ scope }));
    this.gate = this.#budgets;
  }

  runEnded(end: RunEnd): void {
    const agentId = end.agent ?? this.#defaultAgent;
    const configured = configuredModel(this.#agents.get(agentId));
    const provider = end.provider ?? configured.provider;
    const model = end.model ?? configured.model;
    const tokens = {
      inputTokens: count(end.usage?.inputTokens), outputTokens: count(end.usage?.outputTokens), cachedTokens: count(end.usage?.cachedTokens),
    };
    const { costUsd, priced } = costOf(this.opts.pricing, model, tokens);
    const { tenant, keyId, user, sourceIp } = end.caller;
    const labels = { tenant: this.#tenants.label(tenant), model: this.#models.label(model) };
    if (tokens.inputTokens > 0) this.#tokens.inc({ ...labels, kind: 'input' }, tokens.inputTokens);
    if (tokens.outputTokens > 0) this.#tokens.inc({ ...labels, kind: 'output' }, tokens.outputTokens);
    if (tokens.cachedTokens > 0) this.#tokens.inc({ ...labels, kind: 'cached' }, tokens.cachedTokens);
    if (costUsd > 0) this.#cost.inc(labels, costUsd);
    if (!priced) this.#flagUnpriced(model, labels.model);
    this.#budgets?.charge(tenant, keyId, tokens.inputTokens + tokens.outputTokens, costUsd)
      .catch((err: unknown) => this.opts.log.error('charging a usage budget failed', { tenant, error: String(err) }));
    this.opts.store?.usage(tenant, {
      at: new Date(), runId: end.runId, user, ...(keyId === undefined ? {} : { apiKeyId: keyId }), agent: agentId, provider, model,
      ...tokens, costUsd, priced, latencyMs: Math.round(end.latencyMs), outcome: end.outcome,
      // The row is also the turn's record (the audit log has no per-turn row).
      ...(end.sessionKey === undefined ? {} : { sessionKey: end.sessionKey }),
      ...(sourceIp === undefined || sourceIp.length === 0 ? {} : { sourceIp: sourceIp.slice(0, 64) }),
      ...(end.endReason === undefined ? {} : { endReason: end.endReason.slice(0, 64) }),
    });
  }

  #flagUnpriced(model: string, label: string): void {
    this.#unpriced.inc({ model: label });
    if (this.#warnedUnpriced.size >= 1000 || this.#warnedUnpriced.has(model)) return;
    this.#warnedUnpriced.add(model);
    this.opts.log.warn('model has no price in the config; its usage counts as cost 0', { model });
  }

  /** Usage of one tenant, or of every tenant when `tenant` is undefined. Rows still queued are written first. */
  async summarize(query: UsageSummaryQuery): Promise<UsageSummaryRow[]> {
    const { store } = this.opts;
    if (store === undefined) throw new TroupeError('NOT_FOUND', 'Usage is kept only with a store (TROUPE_STORE is none)', { reason: 'no_usage_store' });
    await store.flush(SUMMARY_FLUSH_MS);
    const { tenant, ...q } = query;
    return store.usageSummary(tenant, q);
  }
}
