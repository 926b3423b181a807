/** Flag parsing for the bench commands: `--name value` or `--flag`, with clear errors. */
import { BenchError } from './target.js';

export class Args {
  private readonly used = new Set<string>();

  constructor(
    private readonly argv: readonly string[],
    private readonly booleans: ReadonlySet<string>,
  ) {}

  has(name: string): boolean {
    this.used.add(name);
    return this.argv.includes(name);
  }

  str(name: string): string | undefined {
    this.used.add(name);
    const i = this.argv.indexOf(name);
    if (i < 0) return undefined;
    const v = this.argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new BenchError('INVALID_REQUEST', `${name} needs a value`);
    return v;
  }

  num(name: string, fallback: number, min: number, max: number): number {
    const raw = this.str(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) throw new BenchError('INVALID_REQUEST', `${name} must be a number from ${min} to ${max} (got "${raw}")`);
    return n;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const n = this.num(name, fallback, min, max);
    if (!Number.isInteger(n)) throw new BenchError('INVALID_REQUEST', `${name} must be a whole number`);
    return n;
  }

  /** Seconds, accepting a unit: 500ms, 10s, 5m, 1h. Returns milliseconds. */
  durationMs(name: string, fallbackMs: number, maxMs = 24 * 3_600_000): number {
    const raw = this.str(name);
    if (raw === undefined) return fallbackMs;
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw);
    if (m === null) throw new BenchError('INVALID_REQUEST', `${name} must be a duration like 500ms, 10s, 5m or 1h (got "${raw}")`);
    const ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
    if (ms > maxMs) throw new BenchError('INVALID_REQUEST', `${name} is longer than ${maxMs / 1000}s`);
    return Math.round(ms);
  }

  /** Fails on flags nobody asked for (a typo must not silently run the default). */
  rejectUnknown(): void {
    for (let i = 0; i < this.argv.length; i++) {
      const a = this.argv[i];
      if (!a.startsWith('--')) continue;
      if (!this.used.has(a)) throw new BenchError('INVALID_REQUEST', `unknown option ${a}`);
      if (!this.booleans.has(a)) i++;
    }
  }
}
