/**
 * The front door's usage ports, implemented by the gateway (usage recorder,
 * budgets) and passed in:
 *
 *   startRun ─► BudgetGate.check (before the run, beside the chat rate limit)
 *      │
 *      └─ run's terminal event ─► UsageLedger.runEnded (tokens, model, outcome)
 *
 *   GET /v1/usage ─► UsageLedger.summarize
 */
import type { Caller, RunEnd } from '../actors/chat_contract.js';

/**
 * Usage budgets. `check` resolves when the caller may start a run and throws a
 * catalogue error (BUDGET_EXCEEDED, retryAfterMs until the reset) when not.
 */
export interface BudgetGate {
  check(caller: Caller): Promise<void>;
}

export const USAGE_GROUP_BY = ['tenant', 'key', 'agent', 'model', 'day', 'user'] as const;
export type UsageGroupBy = (typeof USAGE_GROUP_BY)[number];

export interface UsageSummaryQuery {
  /** undefined: every tenant (only a platform caller may ask). */
  tenant: string | undefined;
  from: Date;
  to: Date;
  groupBy: UsageGroupBy;
}

/**
 * One group of a usage report. It mirrors store/'s UsageRow (neither layer may
 * import the other); the gateway's recorder hands one over as the other, so the
 * compiler keeps the two equal.
 */
export interface UsageSummaryRow {
  group: string;
  runs: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  costUsd: number;
  /** Runs whose model has no price (counted at cost 0). */
  unpricedRuns: number;
}

export interface UsageLedger {
  /** Must not throw or block: it is called from a run's event sink. */
  runEnded(end: RunEnd): void;
  /** Throws NOT_FOUND when usage is not kept (no store). */
  summarize(query: UsageSummaryQuery): Promise<UsageSummaryRow[]>;
}
