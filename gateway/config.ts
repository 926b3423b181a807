/**
 * Gateway configuration: defaults that run anywhere, overridden by a JSON
 * config file (`TROUPE_CONFIG` or `--config`), then by environment variables.
 * The file is parsed with the strict schema in config_schema.ts first; bad
 * values fail start-up with a message naming the setting.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { AgentConfig } from '../actors/protocol.js';
import type { ProviderSpec } from '../actors/provider/actor.js';
import type { ChannelSpec } from '../transports/channels/config.js';
import { checkChannelsConfig } from './channels_config.js';
import type { BudgetSpec } from './budgets.js';
import { ConfigError } from './config_error.js';
import { describeIssue, fileConfigSchema, unknownEnv, type FileConfig } from './config_schema.js';
import { checkToolsConfig, type ToolsFileConfig } from './tools_config.js';
import { memoryConfig, type MemoryConfig } from './memory_config.js';
import type { PriceTable } from './pricing.js';
import type { TeamConfig } from '../actors/team/protocol.js';
import { checkTeams } from './teams_config.js';
import type { TracingConfig } from '../observability/tracing.js';
import { tracingConfig } from './tracing_config.js';

export interface GatewayConfig {
  host: string;
  port: number;
  /** Actor worker threads; undefined = one per core. */
  workers?: number;
  dataDir: string;
  jwt: { secret?: string; jwks?: string; issuer?: string; audience?: string };
  /** Where the HS256 secret came from, for the start-up banner. */
  jwtSecretSource: 'env' | 'config' | 'generated' | 'file' | 'none';
  agents: AgentConfig[];
  /** Agent teams: a lead, members, optional reviewers and limits (see docs/teams.md). */
  teams: TeamConfig[];
  defaultAgent?: string;
  /** Provider credentials for agents' `chain`s: limits, breakers (see docs/provider-actors.md). */
  providers: ProviderSpec[];
  /** Built-in tools, MCP servers, isolated tools (see docs/tools.md); absent: the built-ins with defaults. */
  tools: ToolsFileConfig;
  limits: {
    /** Connections: per IP at the upgrade, per tenant and per user at `connect`. */
    connect: ScopedRates;
    /** chat.send and completions: per tenant, per user and per IP. */
    chat: ScopedRates;
    maxConnections: number;
    maxPayloadBytes: number;
  };
  allowedOrigins: string[];
  /** Bearer token /metrics requires (TROUPE_METRICS_TOKEN); absent: /metrics is open. */
  metricsToken?: string;
  sessionIdleMs: number;
  /** Messages of history a live session keeps in memory (older ones stay in the store). */
  historyLimit: number;
  shutdownDeadlineMs: number;
  /** Start even if uWebSockets.js fell back to its slow JavaScript emulation. */
  allowFallback: boolean;
  /** Where data lives: embedded PGlite (default), PostgreSQL (DATABASE_URL), or nowhere ('none'). */
  store: { kind: 'pglite' | 'postgres' | 'none'; databaseUrl?: string; appDatabaseUrl?: string; schema?: string };
  /** Memory's embeddings (memory_config.ts); default: the offline hash embedder. */
  memory: MemoryConfig;
  /** Redis for distributed limits, caches and idempotency (optional). */
  redisUrl?: string;
  /** What prompt-injection screening does with suspicious user input and tool output. */
  injectionAction: 'log' | 'warn' | 'block';
  /** Chat channels (Telegram, Slack, …; see docs/channels.md); credentials may still be `secret:NAME`. */
  channels: ChannelSpec[];
  /** USD per million input/output/cached tokens, by model; unknown models cost 0 and are flagged. */
  pricing: PriceTable;
  /** Token or money budgets per tenant or API key, per day or month (UTC). */
  budgets: BudgetSpec[];
  /** OpenTelemetry traces over OTLP/HTTP (the standard OTEL_* variables; tracing_config.ts); absent: off. */
  tracing?: TracingConfig;
  /** Test-only: expose the `admin.fault` method (TROUPE_ENABLE_FAULTS=1; never in production). */
  enableFaults?: boolean;
}

export interface RateSpec {
  perSec: number;
  burst: number;
}

export type ScopedRates = Record<'tenant' | 'user' | 'ip', RateSpec>;

export { ConfigError };

const DEFAULT_AGENTS: AgentConfig[] = [
  {
    id: 'assistant',
    description: 'A demo agent on the simulated provider (no keys needed)',
    model: 'simulated-1',
    provider: { kind: 'simulated', tokens: 32, latencyMs: 0 },
  },
];

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
  return n;
}

function num(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError(`${name} must be a number from ${min} to ${max} (got "${raw}")`);
  return n;
}

/** How many schema issues one error lists; the rest are counted. */
const MAX_ISSUES_SHOWN = 5;

function readFileConfig(path: string | undefined): FileConfig {
  if (path === undefined) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${path} is not valid: not a JSON object`);
  const result = fileConfigSchema.safeParse(parsed);
  if (result.success) return result.data;
  const shown = result.error.issues.slice(0, MAX_ISSUES_SHOWN).map((i) => describeIssue(i, fileConfigSchema, parsed));
  const more = result.error.issues.length - shown.length;
  throw new ConfigError(`config file ${path}: ${shown.join('; ')}${more > 0 ? ` (and ${more} more)` : ''}`, 'bad_config_schema');
}

/** The checked teams and agents, for the configuration (which agents are store-only is the gateway's concern at start). */
function teamsAndAgents({ teams, agents }: ReturnType<typeof checkTeams>): Pick<GatewayConfig, 'teams' | 'agents'> {
  return { teams, agents };
}

/** The HS256 secret: from the environment or config, else one generated once and kept in the data dir. */
export function resolveJwtSecret(dataDir: string, fromEnvOrConfig: string | undefined): { secret: string; source: GatewayConfig['jwtSecretSource'] } {
  if (fromEnvOrConfig !== undefined && fromEnvOrConfig !== '') return { secret: fromEnvOrConfig, source: 'env' };
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) return { secret: readFileSync(file, 'utf8').trim(), source: 'file' };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
  return { secret, source: 'generated' };
}

function injectionAction(v: string | undefined): GatewayConfig['injectionAction'] {
  if (v === undefined || v === '') return 'warn';
  if (v === 'log' || v === 'warn' || v === 'block') return v;
  throw new ConfigError(`TROUPE_INJECTION_ACTION must be log, warn or block (got "${v}")`);
}

function storeConfig(env: Env): GatewayConfig['store'] {
  const kind = env.TROUPE_STORE;
  if (kind !== undefined && kind !== '' && kind !== 'pglite' && kind !== 'postgres' && kind !== 'none') {
    throw new ConfigError(`TROUPE_STORE must be pglite, postgres or none (got "${kind}")`);
  }
  if (kind === 'none') return { kind: 'none' };
  const databaseUrl = env.DATABASE_URL || undefined;
  if (kind === 'postgres' && databaseUrl === undefined) throw new ConfigError('TROUPE_STORE=postgres needs DATABASE_URL');
  if (databaseUrl !== undefined && kind !== 'pglite') {
    return {
      kind: 'postgres', databaseUrl,
      ...(env.TROUPE_APP_DATABASE_URL ? { appDatabaseUrl: env.TROUPE_APP_DATABASE_URL } : {}),
      ...(env.TROUPE_DB_SCHEMA ? { schema: env.TROUPE_DB_SCHEMA } : {}),
    };
  }
  return { kind: 'pglite' };
}

export function loadConfig(env: Env = process.env, configPath?: string): GatewayConfig {
  const unknown = unknownEnv(env);
  if (unknown.length > 0) throw new ConfigError(`unknown environment variable${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (see docs/configuration.md)`, 'unknown_env');
  const configFile = configPath ?? env.TROUPE_CONFIG;
  const file = readFileConfig(configFile);
  const dataDir = resolve(env.TROUPE_DATA_DIR ?? file.dataDir ?? '.troupe');
  const workersRaw = env.TROUPE_WORKERS;
  const workers = workersRaw === undefined || workersRaw === '' ? file.workers : int(env, 'TROUPE_WORKERS', 0, 0, 256);
  const jwks = env.TROUPE_JWKS ?? file.jwt?.jwks;
  let secret: string | undefined;
  let jwtSecretSource: GatewayConfig['jwtSecretSource'] = 'none';
  if (jwks === undefined) {
    const r = resolveJwtSecret(dataDir, env.TROUPE_JWT_SECRET ?? file.jwt?.secret);
    secret = r.secret;
    jwtSecretSource = env.TROUPE_JWT_SECRET ? 'env' : file.jwt?.secret ? 'config' : r.source;
  }
  const agents = file.agents ?? DEFAULT_AGENTS;
  for (const a of agents) checkAgentModels(a, file.providers ?? []);
  const limits = file.limits ?? {};
  const rates = (prefix: string, given: Partial<Record<keyof ScopedRates, Partial<RateSpec>>> | undefined, defaults: ScopedRates): ScopedRates => {
    // TROUPE_CHAT_RATE sets every scope's default; TROUPE_CHAT_USER_RATE (etc.) one scope's.
    const allRate = env[`TROUPE_${prefix}_RATE`] ? num(env, `TROUPE_${prefix}_RATE`, 0, 1e-6, 1e9) : undefined;
    const allBurst = env[`TROUPE_${prefix}_BURST`] ? int(env, `TROUPE_${prefix}_BURST`, 0, 1, 1e9) : undefined;
    const one = (scope: keyof ScopedRates): RateSpec => {
      const name = `TROUPE_${prefix}_${scope.toUpperCase()}`;
      return {
        perSec: num(env, `${name}_RATE`, allRate ?? given?.[scope]?.perSec ?? defaults[scope].perSec, 1e-6, 1e9),
        burst: int(env, `${name}_BURST`, allBurst ?? given?.[scope]?.burst ?? defaults[scope].burst, 1, 1e9),
      };
    };
    return { tenant: one('tenant'), user: one('user'), ip: one('ip') };
  };
  return {
    host: env.TROUPE_HOST ?? file.host ?? '127.0.0.1',
    port: int(env, 'TROUPE_PORT', file.port ?? 8787, 0, 65_535),
    workers,
    dataDir,
    jwt: { secret, jwks, issuer: env.TROUPE_JWT_ISSUER ?? file.jwt?.issuer, audience: env.TROUPE_JWT_AUDIENCE ?? file.jwt?.audience },
    jwtSecretSource,
    ...teamsAndAgents(checkTeams(file.teams, agents)),
    defaultAgent: file.defaultAgent,
    providers: file.providers ?? [],
    // Relative paths in the tools block (isolated tool modules) are relative to the config file.
    tools: checkToolsConfig(file.tools, configFile === undefined ? process.cwd() : dirname(resolve(configFile))),
    limits: {
      connect: rates('CONNECT', limits.connect, {
        tenant: { perSec: 1_000, burst: 20_000 }, user: { perSec: 100, burst: 20_000 }, ip: { perSec: 1_000, burst: 20_000 },
      }),
      chat: rates('CHAT', limits.chat, {
        tenant: { perSec: 10_000, burst: 20_000 }, user: { perSec: 1_000, burst: 2_000 }, ip: { perSec: 5_000, burst: 10_000 },
      }),
      maxConnections: int(env, 'TROUPE_MAX_CONNECTIONS', limits.maxConnections ?? 50_000, 1, 1e7),
      maxPayloadBytes: int(env, 'TROUPE_MAX_PAYLOAD', limits.maxPayloadBytes ?? 512 * 1024, 1024, 64 * 1024 * 1024),
    },
    ...metricsTokenOf(env.TROUPE_METRICS_TOKEN ?? file.metricsToken),
    allowedOrigins: (env.TROUPE_ALLOWED_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean).concat(file.allowedOrigins ?? []),
    sessionIdleMs: int(env, 'TROUPE_SESSION_IDLE_MS', file.sessionIdleMs ?? 300_000, 1_000, 86_400_000),
    historyLimit: int(env, 'TROUPE_HISTORY_LIMIT', file.historyLimit ?? 50, 2, 10_000),
    shutdownDeadlineMs: int(env, 'TROUPE_SHUTDOWN_DEADLINE_MS', file.shutdownDeadlineMs ?? 10_000, 0, 600_000),
    allowFallback: env.TROUPE_ALLOW_UWS_FALLBACK === '1' || file.allowFallback === true,
    store: storeConfig(env),
    memory: memoryConfig(env, file.memory),
    injectionAction: injectionAction(env.TROUPE_INJECTION_ACTION ?? file.injectionAction),
    channels: checkChannelsConfig(file.channels, agents),
    pricing: file.pricing ?? {},
    budgets: file.budgets ?? [],
    redisUrl: env.REDIS_URL || undefined,
    ...tracingOf(env),
    // env only, on purpose: a config file copied to production must not turn faults on
    enableFaults: env.TROUPE_ENABLE_FAULTS === '1',
  };
}

/**
 * An agent reaches a model through a `chain` of the gateway's `providers`, or
 * directly through `provider` + `model`; a chain naming an unknown provider is
 * refused at load (and by the admin API), not at the first request. Undefined
 * when the agent is fine.
 */
export function agentModelProblem(a: Pick<AgentConfig, 'id' | 'chain' | 'model' | 'provider'>, providerIds: Iterable<string>): { field: string; message: string } | undefined {
  // Shapes (a non-empty chain, each entry's fields, provider kinds) are the schema's; this checks what it cannot.
  if (a.chain === undefined) {
    if (a.model === undefined || a.provider === undefined) return { field: 'chain', message: `agent ${a.id} needs a "chain", or "model" and "provider.kind"` };
    return undefined;
  }
  const known = new Set(providerIds);
  for (const [i, entry] of a.chain.entries()) {
    if (!known.has(entry.providerId)) {
      return {
        field: `chain.${i}.providerId`,
        message: `agent ${a.id}: chain[${i}] names provider "${entry.providerId}", which is not in "providers" (known: ${[...known].join(', ') || 'none'})`,
      };
    }
  }
  return undefined;
}

function checkAgentModels(a: AgentConfig, providers: readonly ProviderSpec[]): void {
  const problem = agentModelProblem(a, providers.map((p) => p.id));
  if (problem !== undefined) throw new ConfigError(problem.message);
}

function tracingOf(env: Env): { tracing?: TracingConfig } {
  const tracing = tracingConfig(env);
  return tracing === undefined ? {} : { tracing };
}

function metricsTokenOf(token: string | undefined): { metricsToken?: string } {
  if (token === undefined || token === '') return {};
  if (typeof token !== 'string' || token.length < 16 || token.length > 1024 || /\s/.test(token)) {
    throw new ConfigError('metricsToken (TROUPE_METRICS_TOKEN) must be 16 to 1024 characters without spaces');
  }
  return { metricsToken: token };
}
