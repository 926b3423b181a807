/**
 * argv for the operator commands (`migrate`, `keys`, `secrets`, `audit`): each
 * subcommand accepts only its own options, so a typo is a usage error (exit 2) that
 * names the option instead of being silently ignored.
 */
import { usageReport } from './admin_usage.js';
import {
  auditVerify, EXIT_USAGE, keysCreate, keysList, keysRevoke, migrateCommand, secretsRotate, secretsSet,
  type AdminContext,
} from './admin.js';
import { stderr } from './admin_support.js';

export const ADMIN_USAGE = `  migrate                               apply pending database migrations (also done at start-up)
  keys create --tenant T --name N [--scope S ...] [--expires 90d|never]
                                        create an API key and print it once
  keys list --tenant T                  list a tenant's API keys (never the key or its hash)
  keys revoke --tenant T --id ID        revoke an API key
  secrets set --tenant T --name N --value V
                                        store an encrypted secret
  secrets rotate [--tenant T]           re-encrypt secrets under the current key version
  audit verify [--tenant T]             check the audit log's hash chains
  usage [--from D] [--to D] [--group-by tenant|key|agent|model|user|day] [--tenant T]
                                        tokens, runs and cost (default: last 30 days by model)
`;

interface Spec {
  /** Options taking one value. */
  single: readonly string[];
  /** Options that may repeat. */
  multi?: readonly string[];
  run(o: Parsed, ctx: AdminContext): Promise<number>;
}

interface Parsed {
  one: Map<string, string>;
  many: Map<string, string[]>;
}

const str = (o: Parsed, name: string): string | undefined => o.one.get(name);

const SPECS: Record<string, Spec> = {
  migrate: { single: [], run: (_o, ctx) => migrateCommand(ctx) },
  'keys create': {
    single: ['--tenant', '--name', '--expires'],
    multi: ['--scope'],
    run: (o, ctx) => keysCreate({ tenant: str(o, '--tenant'), name: str(o, '--name'), expires: str(o, '--expires'), scopes: o.many.get('--scope') ?? [] }, ctx),
  },
  'keys list': { single: ['--tenant'], run: (o, ctx) => keysList({ tenant: str(o, '--tenant') }, ctx) },
  'keys revoke': { single: ['--tenant', '--id'], run: (o, ctx) => keysRevoke({ tenant: str(o, '--tenant'), id: str(o, '--id') }, ctx) },
  'secrets set': {
    single: ['--tenant', '--name', '--value'],
    run: (o, ctx) => secretsSet({ tenant: str(o, '--tenant'), name: str(o, '--name'), value: str(o, '--value') }, ctx),
  },
  'secrets rotate': { single: ['--tenant'], run: (o, ctx) => secretsRotate({ tenant: str(o, '--tenant') }, ctx) },
  usage: {
    single: ['--from', '--to', '--group-by', '--tenant'],
    run: (o, ctx) => usageReport({ from: str(o, '--from'), to: str(o, '--to'), groupBy: str(o, '--group-by'), tenant: str(o, '--tenant') }, ctx),
  },
  'audit verify': { single: ['--tenant'], run: (o, ctx) => auditVerify({ tenant: str(o, '--tenant') }, ctx) },
};

/** `--config FILE` is read by the CLI itself before it gets here; accepted everywhere. */
const GLOBAL = ['--config'];

class ArgError extends Error {}

function parse(args: readonly string[], spec: Spec): Parsed {
  const out: Parsed = { one: new Map(), many: new Map() };
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i];
    const value = args[i + 1];
    const multi = spec.multi?.includes(name) === true;
    if (!multi && !spec.single.includes(name) && !GLOBAL.includes(name)) {
      throw new ArgError(name.startsWith('--') ? `unknown option ${name}` : `unexpected argument "${name}"`);
    }
    if (value === undefined || value.startsWith('--')) throw new ArgError(`${name} needs a value`);
    if (multi) out.many.set(name, [...(out.many.get(name) ?? []), value]);
    else if (out.one.has(name)) throw new ArgError(`${name} is given twice`);
    else out.one.set(name, value);
  }
  return out;
}

/** Runs `argv` (e.g. ['keys', 'create', '--tenant', 'acme', …]) and returns the exit code. */
export async function runAdminCommand(argv: readonly string[], ctx: AdminContext): Promise<number> {
  const [group, sub, ...rest] = argv;
  const oneWord = group === 'migrate' || group === 'usage';
  const key = oneWord ? (group as string) : `${group ?? ''} ${sub ?? ''}`;
  const spec = Object.hasOwn(SPECS, key) ? SPECS[key] : undefined;
  const err = ctx.err ?? stderr;
  try {
    if (spec === undefined) throw new ArgError(`unknown command "${argv.slice(0, 2).join(' ')}"`);
    return await spec.run(parse(oneWord ? argv.slice(1) : rest, spec), ctx);
  } catch (e) {
    if (!(e instanceof ArgError)) throw e;
    err(`troupe: ${e.message}\n\n${ADMIN_USAGE}`);
    return EXIT_USAGE;
  }
}
