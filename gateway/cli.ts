#!/usr/bin/env node
/**
 * The `troupe` command: start the gateway, mint a token, chat from the
 * terminal, run the runtime demo or a benchmark, and administer the data layer.
 */
import { parseTtl, signToken } from '../security/jwt.js';
import { ArgvError, parseArgv, type ArgvValues } from './argv.js';
import { ConfigError, loadConfig } from './config.js';
import { describeMemory } from './memory_config.js';

// Each command imports what it needs when it runs: `troupe start` does not load the
// benchmark clients, the admin commands or the chat client (start time and memory).
const usage = async (): Promise<string> => {
  const [{ ADMIN_USAGE }, { BENCH_USAGE }, { CHANNELS_USAGE }] = await Promise.all([import('./admin_cli.js'), import('../bench/cli.js'), import('./channels_cli.js')]);
  return `usage: troupe <command> [options]

commands:
  start [--config FILE]                 start the gateway (settings: TROUPE_HOST, TROUPE_PORT,
                                        TROUPE_WORKERS, TROUPE_JWT_SECRET, TROUPE_JWKS,
                                        TROUPE_DATA_DIR, TROUPE_CONFIG; see docs/configuration.md)
  token --tenant T --user U [--ttl 1h] [--scope S ...]
                                        print a JWT that the current configuration accepts
  chat "message" [--url URL] [--token T] [--session KEY] [--agent ID]
                                        send one message over WebSocket and stream the reply
  teams board TEAM [--run ID] [--status S] [--json] [--url URL] [--token T]
                                        print a team's task board (docs/teams.md)
  demo [--workers N]                    the actor runtime demo (no network)
  bench ws|http|compare|proxy|runtime load tests and microbenchmarks (see below and docs/bench.md)
${ADMIN_USAGE}${CHANNELS_USAGE}  help                                  show this help

${BENCH_USAGE}
`;
};

class UsageError extends Error {}

const CONFIG = { config: { type: 'string' } } as const;
/** Where a client command connects and with what. */
const CLIENT = { ...CONFIG, url: { type: 'string' }, token: { type: 'string' } } as const;
const SPECS = {
  start: CONFIG,
  token: { ...CONFIG, tenant: { type: 'string' }, user: { type: 'string' }, ttl: { type: 'string' }, scope: { type: 'string', multiple: true } },
  chat: { ...CLIENT, session: { type: 'string' }, agent: { type: 'string' } },
  teams: { ...CLIENT, run: { type: 'string' }, status: { type: 'string' }, json: { type: 'boolean' } },
  demo: { workers: { type: 'string' } },
} as const;

const out = (line: string) => process.stdout.write(line + '\n');

async function start(args: string[]): Promise<void> {
  const config = loadConfig(process.env, parseArgv(args, SPECS.start).values.config);
  // The workers and the store's open start first, on their threads, while this one loads the rest.
  const { bootGateway } = await import('./boot.js');
  const boot = bootGateway(config);
  boot.catch(() => undefined); // startGateway reports a failed boot
  const { DEV_TOKEN_TTL_SEC, startGateway } = await import('./gateway.js');
  const gw = await startGateway(config, { boot });
  out(`troupe listening on ${gw.url} (uWebSockets.js ${gw.engine}, ${gw.system.workers?.size ?? 0} actor workers)`);
  out(`  WebSocket  ws://${config.host}:${gw.port}/ws`);
  out(`  OpenAI API ${gw.url}/v1   metrics ${gw.url}/metrics`);
  out(`  console    ${gw.url}/console   (sign in with an API key or a token)`);
  if (gw.store?.memory !== undefined) {
    const memory = describeMemory(gw.store.memory.embedder, gw.store.memory.vectorSearch);
    out(`  memory     embeddings ${memory.embeddings}; vector search ${memory.vectorSearch}`);
  }
  if (config.enableFaults) out('  WARNING: TROUPE_ENABLE_FAULTS=1: admin.fault can kill actor workers (tests and benchmarks only)');
  if (gw.devToken !== undefined) {
    if (config.jwtSecretSource === 'generated') out(`  a signing secret was generated in ${config.dataDir}/jwt-secret`);
    out(`  dev token (tenant dev, user dev, scope chat, ${DEV_TOKEN_TTL_SEC / 60} min; printed only while the secret is the generated one):\n    ${gw.devToken}`);
    out(`  try: npx troupe chat "hello"    (or: curl ${gw.url}/v1/chat/completions -H "Authorization: Bearer $TOKEN" -d '{"model":"${config.agents[0].id}","messages":[{"role":"user","content":"hi"}]}')`);
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      out(`${signal}: draining runs in flight (up to ${config.shutdownDeadlineMs} ms)…`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await gw.shutdown();
  out('stopped');
}

async function token(args: string[]): Promise<void> {
  const { tenant, user, config: file, scope, ttl } = parseArgv(args, SPECS.token).values;
  if (tenant === undefined || user === undefined) throw new UsageError('token needs --tenant and --user');
  const config = loadConfig(process.env, file);
  if (config.jwt.secret === undefined) throw new UsageError('tokens can only be minted for an HS256 configuration (TROUPE_JWKS is set)');
  out(await signToken({
    secret: config.jwt.secret, tenant, user, scopes: scope, ttlSec: parseTtl(ttl ?? '1h'),
    ...(config.jwt.issuer !== undefined ? { issuer: config.jwt.issuer } : {}),
    ...(config.jwt.audience !== undefined ? { audience: config.jwt.audience } : {}),
  }));
}

/** Where a client command connects (--url) and with what (--token, TROUPE_TOKEN, or a dev token). */
async function clientTarget(o: ArgvValues<typeof CLIENT>): Promise<{ url: string; tok: string }> {
  const config = loadConfig(process.env, o.config);
  const url = o.url ?? `http://${config.host}:${config.port}`;
  let tok = o.token ?? process.env.TROUPE_TOKEN;
  if (tok === undefined) {
    if (config.jwt.secret === undefined) throw new UsageError('give --token (or TROUPE_TOKEN)');
    tok = await signToken({ secret: config.jwt.secret, tenant: 'dev', user: 'dev', scopes: ['chat'], ttlSec: 600,
      ...(config.jwt.issuer !== undefined ? { issuer: config.jwt.issuer } : {}),
      ...(config.jwt.audience !== undefined ? { audience: config.jwt.audience } : {}) });
  }
  return { url, tok };
}

async function chat(args: string[]): Promise<void> {
  const { values, positionals } = parseArgv(args, SPECS.chat, { positionals: Infinity });
  const message = positionals.join(' ');
  if (message.length === 0) throw new UsageError('chat needs a message');
  const { url, tok } = await clientTarget(values);
  const { runChat } = await import('./chat_client.js');
  await runChat({ url, token: tok, message, sessionKey: values.session, agent: values.agent, write: (t) => process.stdout.write(t) });
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return start(rest);
    case 'token':
      return token(rest);
    case 'chat':
      return chat(rest);
    case 'teams': {
      const { values, positionals } = parseArgv(rest, SPECS.teams, { positionals: 2 });
      const { url, tok } = await clientTarget(values);
      const { runTeamsCommand } = await import('./teams_cli.js');
      const [sub, team] = positionals;
      process.exitCode = await runTeamsCommand({ sub, team, run: values.run, status: values.status, json: values.json }, { url, token: tok, out });
      return;
    }
    case 'demo': {
      const w = parseArgv(rest, SPECS.demo).values.workers ?? process.env.TROUPE_WORKERS;
      const workers = w === undefined ? undefined : Number(w);
      if (workers !== undefined && (!Number.isInteger(workers) || workers < 0)) throw new UsageError('--workers must be a whole number');
      const { runDemo } = await import('./demo.js');
      return runDemo({ workers, log: out });
    }
    case 'bench': {
      const { runBenchCommand } = await import('../bench/cli.js');
      return runBenchCommand(rest, out);
    }
    case 'channels': {
      const { runChannelsCommand } = await import('./channels_cli.js');
      const envFile = process.env.TROUPE_CONFIG;
      process.exitCode = await runChannelsCommand(rest, { config: (file) => loadConfig(process.env, file), out, ...(envFile === undefined ? {} : { configFile: envFile }) });
      return;
    }
    case 'migrate':
    case 'keys':
    case 'secrets':
    case 'audit':
    case 'usage': {
      const { runAdminCommand } = await import('./admin_cli.js');
      process.exitCode = await runAdminCommand(argv, { config: (file) => loadConfig(process.env, file), out });
      return;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(await usage());
      return;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

// A reader that goes away (`troupe chat … | head`) is a normal end, not a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

await main(process.argv.slice(2)).catch(async (err: unknown) => {
  if (err instanceof UsageError || err instanceof ConfigError || (err instanceof Error && (err as { code?: unknown }).code === 'INVALID_REQUEST')) {
    process.stderr.write(`troupe: ${err.message}\n\n${err instanceof UsageError || err instanceof ArgvError ? await usage() : ''}`);
    process.exit(2);
  }
  const e = err as { code?: string; message?: string; stack?: string };
  process.stderr.write(`troupe: ${e.code ? `[${e.code}] ` : ''}${e.message ?? String(err)}\n`);
  process.exit(1);
});
