/**
 * The price table: USD per million input, output and cached (prompt-cache
 * read) tokens, by model. Cached tokens are part of the input count; they are
 * billed at `cached` instead of `input` when a price for them is given.
 * A model with no entry costs 0 and is flagged (`priced: false`), so a
 * missing price shows up in usage reports instead of passing for free.
 */
export interface ModelPrice {
  input: number;
  output: number;
  cached?: number;
}

export type PriceTable = Record<string, ModelPrice>;

export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
}

const PER = 1_000_000;

export function costOf(table: PriceTable, model: string, t: TokenCounts): { costUsd: number; priced: boolean } {
  const price = Object.hasOwn(table, model) ? table[model] : undefined;
  if (price === undefined) return { costUsd: 0, priced: false };
  const cached = Math.min(t.cachedTokens, t.inputTokens);
  const cachedRate = price.cached ?? price.input;
  const costUsd = ((t.inputTokens - cached) * price.input + cached * cachedRate + t.outputTokens * price.output) / PER;
  return { costUsd, priced: true };
}
