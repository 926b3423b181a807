/**
 * The values of a bench command's options, once `parseArgv` has checked the command
 * line (unknown options, missing values, duplicates): numbers in a range and
 * durations with a unit, with errors that name the option.
 */
import { ArgvError, parseArgv, type ArgvSpec } from '../../gateway/argv.js';
import { BenchError } from './target.js';

export type ArgValues = Readonly<Record<string, string | boolean | string[] | undefined>>;

export class Args {
  constructor(private readonly values: ArgValues) {}

  private get(name: string): string | boolean | string[] | undefined {
    const key = name.slice(2);
    // a name that was never declared is a bug in the command, not in the user's input
    if (!Object.hasOwn(this.values, key)) throw new Error(`bench option ${name} is not declared`);
    return this.values[key];
  }

  has(name: string): boolean {
    return this.get(name) === true;
  }

  str(name: string): string | undefined {
    const v = this.get(name);
    return typeof v === 'string' ? v : undefined;
  }

  num(name: string, fallback: number, min: number, max: number): number {
    const raw = this.str(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new BenchError('INVALID_REQUEST', `${name} must be a number from ${min} to ${max} (got "${raw}")`);
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
}

/** String options, by name without `--`, for a command's spec. */
export const strings = (...names: string[]): ArgvSpec => Object.fromEntries(names.map((n) => [n, { type: 'string' }]));

/** Flags that take no value. */
export const booleans = (...names: string[]): ArgvSpec => Object.fromEntries(names.map((n) => [n, { type: 'boolean' }]));

/**
 * The command line of a standalone bench script (`node dist/bench/…/x.js`): `--help`
 * prints the usage and exits 0; a bad line prints the error and the usage and exits 2,
 * instead of a stack trace.
 */
export function scriptArgv<S extends Readonly<Record<string, { readonly type: 'string' }>>>(name: string, usage: string, spec: S): { [K in keyof S]: string | undefined } {
  try {
    const { values } = parseArgv(process.argv.slice(2), { ...spec, help: { type: 'boolean' } });
    if (values.help === true) {
      process.stdout.write(usage + '\n');
      process.exit(0);
    }
    return values as { [K in keyof S]: string | undefined };
  } catch (err) {
    if (!(err instanceof ArgvError)) throw err;
    process.stderr.write(`${name}: ${err.message}\n${usage}\n`);
    process.exit(2);
  }
}
