#!/usr/bin/env node
/**
 * The `troupe` command. Subcommands:
 *   start                 start Troupe (for now: the runtime demo)
 *   bench runtime         the actor kernel's microbenchmarks (JSON on stdout)
 */
import { runRuntimeBench } from '../bench/runtime/index.js';
import { runDemo } from './demo.js';

const USAGE = `usage: troupe <command>

commands:
  start [--workers N]          start Troupe (until the front door lands: the runtime demo)
  bench runtime [--quick]      run the actor kernel's microbenchmarks; prints one JSON summary
  help                         show this help
`;

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function fail(message: string): never {
  process.stderr.write(`troupe: ${message}\n\n${USAGE}`);
  process.exit(2);
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start': {
      const w = flag(rest, '--workers') ?? process.env.TROUPE_WORKERS;
      const workers = w === undefined ? undefined : Number(w);
      if (workers !== undefined && (!Number.isInteger(workers) || workers < 0)) fail('--workers must be a whole number');
      await runDemo({ workers, log: (line) => process.stdout.write(line + '\n') });
      return;
    }
    case 'bench': {
      const kind = rest[0];
      if (kind !== 'runtime') fail(`unknown benchmark "${kind ?? ''}" (known: runtime)`);
      const summary = await runRuntimeBench({ quick: rest.includes('--quick') });
      process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
      return;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      fail(`unknown command "${command}"`);
  }
}

await main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`troupe: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
