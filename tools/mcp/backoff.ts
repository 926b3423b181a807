/** Exponential backoff with full jitter: attempt n waits a random time in [base*2^n / 2, base*2^n], capped. */
export interface BackoffOptions {
  /** First delay, ms (default 250). */
  baseMs?: number;
  /** Longest delay, ms (default 30 000). */
  maxMs?: number;
}

export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = options.baseMs ?? 250;
  const max = options.maxMs ?? 30_000;
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
