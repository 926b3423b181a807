/**
 * argv for every `troupe` command, on node:util `parseArgs`, under one set of rules:
 *
 *   - only declared options: `unknown option --x` (a typo must not run the default);
 *   - `--x value` or `--x=value`; a string option without one: `--x needs a value`.
 *     A value may start with one dash (`--rate -5`, `--json -`); one that starts with
 *     two is the next option, not a value (`--tenant --name n`): write `--x=--y`;
 *   - an option given twice: `--x is given twice`, unless it is declared `multiple`;
 *   - positionals up to the command's count: `unexpected argument "x"`; after `--`
 *     everything is a positional. Commands take no short options, so `-5` is a positional.
 *
 * parseArgs runs non-strict with tokens, and the rules above are checked here: its
 * strict mode refuses `--rate -5` and `--value -abc`, which the commands accept, and
 * its messages change between Node versions. Each error is an `ArgvError` with the
 * stable code INVALID_REQUEST; the CLI prints it and exits 2.
 */
import { parseArgs } from 'node:util';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** A string option that may repeat (`--scope a --scope b`). */
  readonly multiple?: boolean;
}

/** Option names without the leading `--`, as parseArgs takes them. */
export type ArgvSpec = Readonly<Record<string, OptionSpec>>;

type ValueOf<O extends OptionSpec> = O extends { type: 'boolean' } ? boolean : O extends { multiple: true } ? string[] : string | undefined;

/** Every declared option has a key: `undefined`, `false` or `[]` when it was not given. */
export type ArgvValues<S extends ArgvSpec> = { -readonly [K in keyof S]: ValueOf<S[K]> };

export interface ParsedArgv<S extends ArgvSpec> {
  values: ArgvValues<S>;
  positionals: string[];
}

/** A bad command line: the message names the option or argument. */
export class ArgvError extends Error {
  readonly code = 'INVALID_REQUEST';
  override readonly name = 'ArgvError';
}

export interface ArgvOptions {
  /** How many positionals the command takes (default 0; `Infinity` for free text). */
  positionals?: number;
}

export function parseArgv<S extends ArgvSpec>(args: readonly string[], spec: S, o: ArgvOptions = {}): ParsedArgv<S> {
  const { tokens } = parseArgs({
    args: [...args],
    options: Object.fromEntries(Object.entries(spec).map(([name, s]) => [name, { type: s.type, multiple: true }])),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string | boolean | string[] | undefined> = {};
  for (const [name, s] of Object.entries(spec)) values[name] = s.type === 'boolean' ? false : s.multiple === true ? [] : undefined;
  const given = new Set<string>();
  const positionals: string[] = [];
  const shortAt = new Set<number>();
  for (const t of tokens) {
    if (t.kind === 'positional') positionals.push(t.value);
    if (t.kind !== 'option') continue;
    if (!t.rawName.startsWith('--')) {
      // `-5`, `-abc`: no command has short options, so the argument is text (once, however many letters)
      if (!shortAt.has(t.index)) positionals.push(args[t.index]);
      shortAt.add(t.index);
      continue;
    }
    const s = Object.hasOwn(spec, t.name) ? spec[t.name] : undefined;
    if (s === undefined) throw new ArgvError(`unknown option ${t.rawName}`);
    if (s.type === 'boolean') {
      if (t.value !== undefined) throw new ArgvError(`${t.rawName} takes no value`);
    } else if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) {
      throw new ArgvError(`${t.rawName} needs a value`);
    }
    if (given.has(t.name) && s.multiple !== true) throw new ArgvError(`${t.rawName} is given twice`);
    given.add(t.name);
    if (s.type === 'boolean') values[t.name] = true;
    else if (s.multiple === true) (values[t.name] as string[]).push(t.value as string);
    else values[t.name] = t.value;
  }
  const max = o.positionals ?? 0;
  if (positionals.length > max) throw new ArgvError(`unexpected argument "${positionals[max]}"`);
  return { values: values as ArgvValues<S>, positionals };
}
