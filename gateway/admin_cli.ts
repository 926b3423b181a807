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
import { resolveConfig, stderr, type ConfigSource } from './admin_support.js';
import { ArgvError, parseArgv, type ArgvSpec } from './argv.js';

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

const S = { type: 'string' } as const;
/** `--config FILE` picks the configuration; accepted by every command. */
const GLOBAL = { config: S } as const;

type Values = Record<string, string | boolean | string[] | undefined>;
const str = (o: Values, name: string): string | undefined => o[name] as string | undefined;

interface Command {
  options: ArgvSpec;
  run(o: Values, ctx: AdminContext): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  migrate: { options: {}, run: (_o, ctx) => migrateCommand(ctx) },
  'keys create': {
    options: { tenant: S, name: S, expires: S, scope: { type: 'string', multiple: true } },
    run: (o, ctx) => keysCreate({ tenant: str(o, 'tenant'), name: str(o, 'name'), expires: str(o, 'expires'), scopes: o.scope as string[] }, ctx),
  },
  'keys list': { options: { tenant: S }, run: (o, ctx) => keysList({ tenant: str(o, 'tenant') }, ctx) },
  'keys revoke': { options: { tenant: S, id: S }, run: (o, ctx) => keysRevoke({ tenant: str(o, 'tenant'), id: str(o, 'id') }, ctx) },
  'secrets set': {
    options: { tenant: S, name: S, value: S },
    run: (o, ctx) => secretsSet({ tenant: str(o, 'tenant'), name: str(o, 'name'), value: str(o, 'value') }, ctx),
  },
  'secrets rotate': { options: { tenant: S }, run: (o, ctx) => secretsRotate({ tenant: str(o, 'tenant') }, ctx) },
  usage: {
    options: { from: S, to: S, 'group-by': S, tenant: S },
    run: (o, ctx) => usageReport({ from: str(o, 'from'), to: str(o, 'to'), groupBy: str(o, 'group-by'), tenant: str(o, 'tenant') }, ctx),
  },
  'audit verify': { options: { tenant: S }, run: (o, ctx) => auditVerify({ tenant: str(o, 'tenant') }, ctx) },
};

/** The CLI hands over how to load the configuration, so that `--config` is parsed with the rest. */
export interface AdminCliContext extends Omit<AdminContext, 'config'> {
  config: ConfigSource<AdminContext['config']>;
}

/** Runs `argv` (e.g. ['keys', 'create', '--tenant', 'acme', …]) and returns the exit code. */
export async function runAdminCommand(argv: readonly string[], ctx: AdminCliContext): Promise<number> {
  const [group, sub, ...rest] = argv;
  const oneWord = group === 'migrate' || group === 'usage';
  const key = oneWord ? (group as string) : `${group ?? ''} ${sub ?? ''}`;
  const command = Object.hasOwn(COMMANDS, key) ? COMMANDS[key] : undefined;
  const err = ctx.err ?? stderr;
  try {
    if (command === undefined) throw new ArgvError(`unknown command "${argv.slice(0, 2).join(' ')}"`);
    const { values } = parseArgv(oneWord ? argv.slice(1) : rest, { ...GLOBAL, ...command.options });
    return await command.run(values, { ...ctx, config: resolveConfig(ctx.config, values.config as string | undefined) });
  } catch (e) {
    if (!(e instanceof ArgvError)) throw e;
    err(`troupe: ${e.message}\n\n${ADMIN_USAGE}`);
    return EXIT_USAGE;
  }
}
