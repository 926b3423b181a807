/**
 * The config file's shape, as one strict zod schema: every object refuses keys
 * it does not know, every value has a type and a range. `loadConfig` parses the
 * file with it before anything else reads it, and turns the first issues into
 * a ConfigError naming the key and what was expected. A new config key is
 * added here, or the gateway refuses to start with it.
 *
 * Checks a schema cannot express (a chain naming a known provider, an isolated
 * tool module that exists) stay in config.ts and tools_config.ts.
 */
import { z } from 'zod';
import type { AgentConfig } from '../actors/protocol.js';
import type { TeamConfig } from '../actors/team/protocol.js';
import type { ProviderSpec } from '../actors/provider/actor.js';
import type { ProviderConfig } from '../providers/index.js';
import { MEMORY_ENV, memorySchema } from './memory_config.js';

const MAX_MS = 2 ** 31 - 1;
const id = z.string().min(1).max(128);
const int = (min: number, max: number) => z.number().int().min(min).max(max);
const ms = int(0, MAX_MS);
const positive = z.number().positive().max(1e12);

const http = {
  apiKey: z.string().min(1).max(4096).optional(),
  baseURL: z.string().url().optional(),
  timeoutMs: int(1, MAX_MS).optional(),
  defaultHeaders: z.record(z.string(), z.string()).optional(),
};

/** The HTTP adapters' transport: 'lean' (default, undici) or 'sdk' (the vendor's SDK). */
const transport = z.enum(['lean', 'sdk']).optional();

export const errorKindSchema = z.enum(['rate_limited', 'overloaded', 'auth', 'bad_request', 'context_overflow', 'timeout', 'network', 'aborted']);

/** What `provider` of an agent, or `config` of a provider, may hold: one shape per kind. */
export const providerConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('openai'), label: z.string().max(128).optional(), maxTokensField: z.enum(['max_tokens', 'max_completion_tokens']).optional(), transport, ...http }),
  z.strictObject({ kind: z.literal('anthropic'), defaultMaxTokens: int(1, 1e7).optional(), transport, ...http }),
  z.strictObject({ kind: z.literal('gemini'), apiVersion: z.string().min(1).max(32).optional(), transport, ...http }),
  z.strictObject({ kind: z.literal('ollama'), ...http }),
  z.strictObject({
    kind: z.literal('simulated'),
    tokens: int(0, 1_000_000).optional(),
    latencyMs: ms.optional(),
    firstTokenMs: ms.optional(),
    batchTokens: int(1, 1_000_000).optional(),
    seed: z.number().int().optional(),
    toolCalls: z.array(z.strictObject({ name: z.string().min(1).max(64), arguments: z.record(z.string(), z.unknown()) })).max(64).optional(),
    failWith: z.strictObject({
      kind: errorKindSchema, afterTokens: int(0, 1_000_000).optional(), retryAfterMs: ms.optional(), message: z.string().max(4096).optional(),
    }).optional(),
  }),
]) satisfies z.ZodType<ProviderConfig>;

export const chainEntrySchema = z.strictObject({ providerId: id, model: z.string().min(1).max(256), contextTokens: int(1, 1e8).optional() });

/** One agent: what answers `chat.send` for `agent: id` (docs/configuration.md#agents). */
export const agentSchema = z.strictObject({
  id,
  description: z.string().max(4096).optional(),
  systemPrompt: z.string().max(200_000).optional(),
  model: z.string().min(1).max(256).optional(),
  provider: providerConfigSchema.optional(),
  chain: z.array(chainEntrySchema).min(1).max(16).optional(),
  maxIterations: int(1, 10_000).optional(),
  contextTokens: int(256, 1e8).optional(),
  tools: z.strictObject({ allow: z.array(z.string().min(1)).max(1024).optional(), deny: z.array(z.string().min(1)).max(1024).optional() }).optional(),
  subagents: z.strictObject({ maxDepth: int(0, 16).optional(), maxFanOut: int(0, 1024).optional(), maxConcurrentSubagents: int(1, 1024).optional() }).optional(),
  loopLimits: z.strictObject({
    sameCallWarn: int(1, 1e6).optional(), sameCallStop: int(1, 1e6).optional(),
    sameResultWarn: int(1, 1e6).optional(), sameResultStop: int(1, 1e6).optional(),
    readOnlyWarn: int(1, 1e6).optional(), readOnlyStop: int(1, 1e6).optional(),
  }).optional(),
  allowAgents: z.array(id).max(1_000).optional(),
  delegationDepth: int(1, 64).optional(),
}) satisfies z.ZodType<AgentConfig>;

/** One agent team: a lead, members, optional reviewers, limits per team run (docs/teams.md). */
export const teamSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$/, 'must be 1-64 characters of [A-Za-z0-9_.:-]'),
  lead: id,
  members: z.array(id).min(1).max(1_000),
  reviewers: z.array(id).max(1_000).optional(),
  limits: z.strictObject({
    maxTasks: int(1, 1e6).optional(), maxDepth: int(1, 64).optional(), tokenBudget: int(1, 1e15).optional(), maxDurationMs: int(1, MAX_MS).optional(),
    leaseMs: int(10, 3_600_000).optional(), maxAttempts: int(1, 100).optional(), attemptTimeoutMs: int(1, MAX_MS).optional(),
    memberConcurrency: int(1, 1_000).optional(), leadTurnTimeoutMs: int(1, MAX_MS).optional(),
  }).optional(),
}) satisfies z.ZodType<TeamConfig>;

/** One of the gateway's providers, which agents' chains name (docs/provider-actors.md). */
export const providerSpecSchema = z.strictObject({
  id,
  config: providerConfigSchema,
  limits: z.strictObject({
    concurrency: int(1, 1e6).optional(), rpm: positive.optional(), tpm: positive.optional(), windowMs: int(1, MAX_MS).optional(),
    maxQueue: int(0, 1e7).optional(), queueTimeoutMs: ms.optional(),
  }).optional(),
  breaker: z.strictObject({ failureThreshold: int(1, 1e6).optional(), coolDownMs: ms.optional(), tripOn: z.array(errorKindSchema).optional() }).optional(),
}) satisfies z.ZodType<ProviderSpec>;

const rate = z.strictObject({ perSec: z.number().min(1e-6).max(1e9), burst: int(1, 1e9) });
const scopedRates = z.strictObject({ tenant: rate.partial().optional(), user: rate.partial().optional(), ip: rate.partial().optional() });

/**
 * One chat channel. Credentials are the platform's own fields (strings, or
 * `secret:NAME`); channels_config.ts checks them against the platform's
 * adapter, as tools_config.ts does for tools.
 */
const channelSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of [A-Za-z0-9_-]'),
  platform: z.enum(['telegram', 'slack', 'discord', 'whatsapp', 'zalo', 'feishu']),
  tenant: z.string().min(1).max(128),
  agent: id.optional(),
  apiBase: z.string().regex(/^https?:\/\//, 'must be an http(s) URL').max(2048).optional(),
  mode: z.enum(['webhook', 'polling']).optional(),
  access: z.strictObject({
    mode: z.enum(['pairing', 'allowlist', 'open']).optional(),
    users: z.array(z.union([z.string().min(1).max(256), z.number()])).max(10_000).optional(),
  }).optional(),
  groups: z.strictObject({ respond: z.enum(['mention', 'all']).optional() }).optional(),
  rate: z.strictObject({ perChatPerSecond: z.number().positive().max(10_000).optional(), perBotPerSecond: z.number().positive().max(10_000).optional() }).optional(),
}).catchall(z.string().min(1).max(4096));

/** The whole config file. `tools` has its own JSON Schema check (tools_config.ts), shared with tool arguments. */
export const fileConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  host: z.string().min(1).max(255).optional(),
  port: int(0, 65_535).optional(),
  workers: int(0, 256).optional(),
  dataDir: z.string().min(1).optional(),
  jwt: z.strictObject({
    secret: z.string().min(1).optional(), jwks: z.string().min(1).optional(), issuer: z.string().min(1).optional(), audience: z.string().min(1).optional(),
  }).optional(),
  agents: z.array(agentSchema).min(1).max(10_000).optional(),
  defaultAgent: id.optional(),
  providers: z.array(providerSpecSchema).max(1_000).optional(),
  tools: z.record(z.string(), z.unknown()).optional(),
  limits: z.strictObject({
    connect: scopedRates.optional(),
    chat: scopedRates.optional(),
    maxConnections: int(1, 1e7).optional(),
    maxPayloadBytes: int(1024, 64 * 1024 * 1024).optional(),
  }).optional(),
  allowedOrigins: z.array(z.string().min(1)).max(1_000).optional(),
  metricsToken: z.string().optional(),
  sessionIdleMs: int(1_000, 86_400_000).optional(),
  historyLimit: int(2, 10_000).optional(),
  shutdownDeadlineMs: int(0, 600_000).optional(),
  allowFallback: z.boolean().optional(),
  injectionAction: z.enum(['log', 'warn', 'block']).optional(),
  channels: z.array(channelSchema).max(1_000).optional(),
  memory: memorySchema.optional(),
  teams: z.array(teamSchema).max(1_000).optional(),
  /** USD per million input, output and cached tokens, by model (docs/operations.md, Usage, cost and budgets). */
  pricing: z.record(z.string().min(1).max(256), z.strictObject({
    input: z.number().min(0).max(1e6),
    output: z.number().min(0).max(1e6),
    cached: z.number().min(0).max(1e6).optional(),
  })).optional(),
  /** Token or USD budgets per tenant or API key, per UTC day or month. */
  budgets: z.array(z.strictObject({
    scope: z.enum(['tenant', 'key']),
    /** A tenant or API key id; absent: every tenant (or key) gets this budget. */
    id: id.optional(),
    limit: z.number().positive().max(1e15),
    unit: z.enum(['tokens', 'usd']),
    period: z.enum(['day', 'month']),
  })).max(10_000).optional(),
});

export type FileConfig = z.infer<typeof fileConfigSchema>;

/**
 * The environment variables the gateway reads. A `TROUPE_` variable not listed
 * here stops the start (a typo would otherwise be ignored); numbers and
 * choices are checked where config.ts reads them, naming the variable.
 */
export const KNOWN_ENV: ReadonlySet<string> = new Set([
  'TROUPE_CONFIG', 'TROUPE_HOST', 'TROUPE_PORT', 'TROUPE_WORKERS', 'TROUPE_DATA_DIR',
  'TROUPE_JWT_SECRET', 'TROUPE_JWKS', 'TROUPE_JWT_ISSUER', 'TROUPE_JWT_AUDIENCE',
  ...['CONNECT', 'CHAT'].flatMap((p) => ['', '_TENANT', '_USER', '_IP'].flatMap((s) => [`TROUPE_${p}${s}_RATE`, `TROUPE_${p}${s}_BURST`])),
  'TROUPE_MAX_CONNECTIONS', 'TROUPE_MAX_PAYLOAD', 'TROUPE_ALLOWED_ORIGINS', 'TROUPE_METRICS_TOKEN',
  'TROUPE_SESSION_IDLE_MS', 'TROUPE_HISTORY_LIMIT', 'TROUPE_SHUTDOWN_DEADLINE_MS', 'TROUPE_ALLOW_UWS_FALLBACK',
  ...MEMORY_ENV,
  'TROUPE_STORE', 'TROUPE_APP_DATABASE_URL', 'TROUPE_DB_SCHEMA', 'TROUPE_ENABLE_FAULTS', 'TROUPE_INJECTION_ACTION',
  // read elsewhere: the logger (observability/log.ts), the secrets key ring (security/secrets.ts) and the CLI's chat client
  'TROUPE_LOG_LEVEL', 'TROUPE_LOG_FORMAT',
  'TROUPE_ENCRYPTION_KEY', 'TROUPE_ENCRYPTION_KEY_VERSION', 'TROUPE_ENCRYPTION_KEYS_OLD', 'TROUPE_TOKEN',
]);

/** Variables test suites set for themselves; never read by the gateway. */
const IGNORED_ENV_PREFIX = 'TROUPE_TEST_';

/** `TROUPE_` variables set in `env` that the gateway does not know. */
export function unknownEnv(env: Record<string, string | undefined>): string[] {
  return Object.keys(env).filter((k) => k.startsWith('TROUPE_') && !k.startsWith(IGNORED_ENV_PREFIX) && !KNOWN_ENV.has(k)).sort();
}

/** The keys an object in `schema` may hold at `path`, following the input through arrays and provider kinds. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[], input: unknown): string[] {
  let s: z.ZodType | undefined = schema;
  let v: unknown = input;
  const pick = (t: z.ZodType | undefined): z.ZodType | undefined => {
    while (t instanceof z.ZodOptional) t = t.unwrap() as z.ZodType;
    if (t instanceof z.ZodDiscriminatedUnion) {
      const kind = (v as { kind?: unknown } | null)?.kind;
      return (t.options as z.ZodType[]).find((o) => o instanceof z.ZodObject && (o.shape as { kind: z.ZodLiteral }).kind.value === kind);
    }
    return t;
  };
  for (const key of path) {
    s = pick(s);
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(key)];
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType;
    else return [];
    v = (v as Record<PropertyKey, unknown> | null)?.[key];
  }
  s = pick(s);
  return s instanceof z.ZodObject ? Object.keys(s.shape as object) : [];
}

/**
 * A zod issue as `path: what was expected`, the path written as in the file
 * (`agents[0].chain[1].model`); an unknown key lists the keys allowed there.
 */
export function describeIssue(issue: z.core.$ZodIssue, schema: z.ZodType = fileConfigSchema, input?: unknown): string {
  let path = '';
  for (const key of issue.path) path += typeof key === 'number' ? `[${key}]` : path === '' ? String(key) : `.${String(key)}`;
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path === '' ? k : `${path}.${k}`));
    const allowed = keysAt(schema, issue.path, input).filter((k) => k !== '$schema');
    return `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}${allowed.length > 0 ? ` (expected one of: ${allowed.join(', ')})` : ''}`;
  }
  return `${path === '' ? '(top level)' : path}: ${issue.message}`;
}
