/**
 * Every body, query and path parameter of /admin/v1, and every answer, as zod
 * schemas: the router validates requests with them at the edge, and the
 * OpenAPI document (openapi.ts) is generated from the same values, so the two
 * cannot drift. Objects are strict: an unknown field is a 400 naming it.
 */
import { z } from 'zod';
import { SCOPE_NAMES } from '../../security/scopes.js';
import { SERVER_NAME } from '../../tools/mcp/config.js';
import { agentSchema, providerSpecSchema } from '../config_schema.js';

/** As store/validate.ts checks tenant ids. */
export const TenantId = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/, 'a tenant id is 1-64 characters of [A-Za-z0-9_.-]');
/** As store/repos/secrets.ts checks names. */
export const SecretName = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'a secret name is 1-128 characters of [A-Za-z0-9_.:-]');
const Id = z.string().min(1).max(128);
const Time = z.string().describe('ISO 8601 time');

const limit = (max: number, dflt: number) => z.coerce.number().int().min(1).max(max).optional().describe(`at most ${max}; default ${dflt}`);

/** `?tenant=`: another tenant's resources (the `platform` scope only). */
export const TenantQuery = z.strictObject({ tenant: TenantId.optional().describe("another tenant's resources (platform scope only); default the caller's") });
export const LimitQuery = z.strictObject({ limit: limit(1000, 100) });
export const IdParams = z.strictObject({ id: Id });
export const NameParams = z.strictObject({ name: SecretName });

// tenants
export const TenantBody = z.strictObject({ id: TenantId, name: z.string().min(1).max(200) });
export const TenantOut = z.object({ id: z.string(), name: z.string(), createdAt: Time });
export const TenantList = z.object({ data: z.array(TenantOut) });

// API keys
export const ApiKeyBody = z.strictObject({
  name: z.string().min(1).max(200),
  scopes: z.array(z.enum(SCOPE_NAMES as [string, ...string[]])).max(16).default([])
    .describe('what the key may do; only scopes the caller holds itself. Empty: chat only'),
  expiresIn: z.string().regex(/^(\d+[smhd]|never)$/, 'expiresIn is a duration (30d, 12h, 90m, 45s) or "never"').default('90d'),
  userId: z.string().min(1).max(200).optional().describe('the user the key acts as'),
});
export const ApiKeyOut = z.object({
  id: z.string(), name: z.string(), scopes: z.array(z.string()), userId: z.string().nullable(),
  expiresAt: Time, revokedAt: Time.nullable(), lastUsedAt: Time.nullable(), createdAt: Time,
});
export const ApiKeyCreated = ApiKeyOut.extend({ key: z.string().describe('the key itself: shown this once, only its SHA-256 is kept') });
export const ApiKeyList = z.object({ data: z.array(ApiKeyOut) });
export const ApiKeyRevoked = z.object({ id: z.string(), revokedAt: Time });

// sign-in (token.ts)
export const TokenBody = z.strictObject({
  scopes: z.array(z.enum(SCOPE_NAMES as [string, ...string[]])).min(1).max(16).optional()
    .describe('the scopes the token carries, each held by the credential; default: exactly the credential\'s scopes'),
  expiresIn: z.string().regex(/^\d{1,6}[smh]$/, 'expiresIn is a duration (30m, 1h, 90s)').optional()
    .describe('default 30m, at most 1h; never past the credential\'s own expiry'),
});
export const TokenOut = z.object({
  token: z.string().describe('an HS256 JWT: send it as Authorization: Bearer'), tokenType: z.literal('Bearer'),
  expiresAt: Time, expiresIn: z.number().int().describe('seconds'), tenant: z.string(), user: z.string(), scopes: z.array(z.string()),
});

// secrets
export const SecretBody = z.strictObject({ value: z.string().min(1).max(32_768).describe('sealed with AES-256-GCM; never returned') });
export const SecretSet = z.object({ name: z.string(), keyVersion: z.number().int(), created: z.boolean() });
export const SecretList = z.object({ data: z.array(z.object({ name: z.string() })) });
export const RotateOut = z.object({ keyVersion: z.number().int(), reencrypted: z.number().int(), current: z.number().int(), failed: z.array(z.string()) });

// agents: the config file's agent (gateway/config_schema.ts agentSchema), without its id, which is the path's
const AgentFields = agentSchema.omit({ id: true }).shape;
const noInlineKey = (v: { provider?: object | null }, ctx: z.RefinementCtx) => {
  if (v.provider != null && 'apiKey' in v.provider) {
    ctx.addIssue({ code: 'custom', path: ['provider', 'apiKey'], message: 'an agent carries no credentials: put the key on a provider (PUT /admin/v1/providers/:id) and name it in "chain"' });
  }
};
/** PUT: the whole definition (replaces the stored one). */
export const AgentBody = z.strictObject(AgentFields).superRefine(noInlineKey)
  .describe('an agent as in the config file\'s "agents" (docs/configuration.md), without "id"');
/** PATCH: the fields to change; `null` removes a field. */
export const AgentPatch = z.strictObject(Object.fromEntries(Object.entries(AgentFields).map(([k, v]) => [k, (v as z.ZodOptional<z.ZodType>).unwrap().nullable().optional()])) as {
  [K in keyof typeof AgentFields]: z.ZodOptional<z.ZodNullable<(typeof AgentFields)[K] extends z.ZodOptional<infer T> ? T : never>>
}).superRefine(noInlineKey).describe('fields to change; null removes one; the result must be a whole agent');
export const AgentOut = z.object({ id: z.string(), ...AgentFields, createdAt: Time, updatedAt: Time });
export const AgentList = z.object({ data: z.array(AgentOut) });
export const AgentDeleted = z.object({ id: z.string(), deleted: z.literal(true) });

// providers: the config file's provider (providerSpecSchema) without its id, its key apart and write-only
const ProviderFields = providerSpecSchema.omit({ id: true }).shape;
export const ProviderIdParams = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$/, 'a provider id is 1-64 characters of [A-Za-z0-9_.:-]'),
});
export const ProviderBody = z.strictObject({
  ...ProviderFields,
  apiKey: z.string().min(1).max(4096).nullable().optional()
    .describe('sealed with AES-256-GCM into the secret provider:<id>; never returned. Absent: the stored key is kept; null: removed'),
}).superRefine((v, ctx) => {
  if ('apiKey' in v.config) ctx.addIssue({ code: 'custom', path: ['config', 'apiKey'], message: 'give the key as the top-level "apiKey" (it is stored sealed, apart from the spec)' });
}).describe('a provider as in the config file\'s "providers" (docs/provider-actors.md), without "id"; its key in "apiKey"');
export const ProviderOut = z.object({ id: z.string(), ...ProviderFields, hasApiKey: z.boolean().describe('a key is stored (it is never returned)'), createdAt: Time, updatedAt: Time });
export const ProviderList = z.object({ data: z.array(ProviderOut) });
export const ProviderDeleted = z.object({ id: z.string(), deleted: z.literal(true) });

// MCP servers: the config file's `tools.mcpServers` entry (docs/tools.md); its headers' or env's values write-only
export const McpServerIdParams = z.strictObject({
  id: z.string().regex(SERVER_NAME, 'an MCP server id is 1-32 letters, digits and dashes, starting with a letter or digit'),
});
const sealedValues = (what: string) => z.record(z.string().min(1).max(256), z.string().max(8192)).refine((v) => Object.keys(v).length <= 64, `at most 64 ${what}`)
  .nullable().optional()
  .describe(`${what}: their values are sealed with AES-256-GCM into the secret mcp:<id> and never returned (their names are). Absent: the stored ones are kept; null or {}: removed`);
const McpServerFields = {
  command: z.string().min(1).max(4096).optional().describe('a stdio server: the program to start (held to tools.mcp.stdioLimits.allowedCommands)'),
  args: z.array(z.string().max(1 << 20)).max(1024).optional(),
  cwd: z.string().min(1).max(4096).optional(),
  env: sealedValues('environment variables (stdio)'),
  url: z.string().min(1).max(4096).optional().describe('an HTTP server (streamable HTTP): its http(s) URL, through the SSRF guard'),
  headers: sealedValues('HTTP headers (url)'),
};
/** One of command (stdio: args, cwd, env) or url (HTTP: headers), as a field-naming issue otherwise. */
const oneKind = (v: { command?: unknown; url?: unknown; args?: unknown; cwd?: unknown; env?: unknown; headers?: unknown }, ctx: z.RefinementCtx) => {
  const given = (k: keyof typeof v) => v[k] !== undefined && v[k] !== null;
  if (given('command') === given('url')) {
    ctx.addIssue({ code: 'custom', path: [given('url') ? 'url' : 'command'], message: 'an MCP server has either "command" (stdio) or "url" (HTTP)' });
    return;
  }
  const foreign = given('url') ? (['args', 'cwd', 'env'] as const).find(given) : given('headers') ? 'headers' : undefined;
  if (foreign !== undefined) ctx.addIssue({ code: 'custom', path: [foreign], message: `"${foreign}" belongs to ${given('url') ? 'a stdio server ("command")' : 'an HTTP server ("url")'}` });
};
/** PUT: the whole definition (replaces the stored one). */
export const McpServerBody = z.strictObject(McpServerFields).superRefine(oneKind)
  .describe('an MCP server as in the config file\'s "tools.mcpServers" (docs/tools.md): command, args, cwd, env, or url, headers');
/** PATCH: the fields to change; `null` removes one. */
export const McpServerPatch = z.strictObject(Object.fromEntries(Object.entries(McpServerFields).map(([k, v]) => [k, (v as z.ZodOptional<z.ZodType>).unwrap().nullable().optional()])) as {
  [K in keyof typeof McpServerFields]: z.ZodOptional<z.ZodNullable<(typeof McpServerFields)[K] extends z.ZodOptional<infer T> ? T : never>>
}).describe('fields to change; null removes one; the result must be a whole server');
export const McpServerOut = z.object({
  id: z.string(), command: z.string().optional(), args: z.array(z.string()).optional(), cwd: z.string().optional(), url: z.string().optional(),
  envNames: z.array(z.string()).optional().describe('the sealed environment variables (values never returned)'),
  headerNames: z.array(z.string()).optional().describe('the sealed headers (values never returned)'),
  createdAt: Time, updatedAt: Time,
});
export const McpServerList = z.object({ data: z.array(McpServerOut) });
export const McpServerDeleted = z.object({ id: z.string(), deleted: z.literal(true) });

// audit
export const AuditQuery = z.strictObject({
  after: z.coerce.number().int().min(0).optional().describe('rows after this sequence number (the previous page\'s `next`)'),
  limit: limit(1000, 100),
});
export const AuditRecordOut = z.object({
  seq: z.number().int(), at: Time, actor: z.string(), action: z.string(), target: z.string().nullable(), sourceIp: z.string().nullable(),
  outcome: z.enum(['success', 'failure', 'denied']), detail: z.record(z.string(), z.unknown()).nullable(), prevHash: z.string(), hash: z.string(),
});
export const AuditPage = z.object({ data: z.array(AuditRecordOut), next: z.number().int().nullable().describe('pass as `after` for the next page; null at the end') });
export const AuditVerdict = z.object({
  ok: z.boolean(), checked: z.number().int(), brokenAt: z.number().int().optional(), reason: z.string().optional(), headHash: z.string().optional(),
});

// channels
export const PairingOut = z.object({
  userId: z.string(), userName: z.string().nullable(), status: z.enum(['pending', 'approved']),
  code: z.string().nullable().describe('the pending request\'s code; null once approved'), createdAt: Time, approvedAt: Time.nullable(),
});
export const ChannelList = z.object({
  data: z.array(z.object({
    id: z.string(), platform: z.string(), agent: z.string().nullable(), access: z.string(), mode: z.string(), pairings: z.array(PairingOut),
  })),
});
export const ApproveBody = z.strictObject({ code: z.string().regex(/^[A-Za-z0-9]{4,16}$/, 'a pairing code is 4-16 letters and digits') });
export const DenyBody = z.strictObject({ userId: z.string().min(1).max(200) });
export const PairingDecision = z.object({ channel: z.string(), userId: z.string(), status: z.enum(['approved', 'denied']) });

export const ErrorOut = z.object({
  error: z.object({
    code: z.string().describe('from the error catalogue (docs/protocol.md)'), message: z.string(), type: z.string(),
    param: z.string().nullable().describe('the field at fault'), reason: z.string().optional(),
  }),
});
