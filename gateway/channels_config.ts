/**
 * The `channels` block of the config file, checked at load: one entry per
 * chat channel, `{ id, platform, tenant, agent, ...credentials, apiBase?,
 * mode?, access?, groups?, rate? }`. Credentials are the platform's fields
 * (see transports/channels/registry.ts); any of them may be `"secret:NAME"`,
 * read from the tenant's encrypted secret store at start-up.
 */
import type { AgentConfig } from '../actors/protocol.js';
import type { ChannelPlatform } from '../transports/channels/adapter.js';
import type { AccessMode, ChannelSpec } from '../transports/channels/config.js';
import { adapterFactory, ADAPTERS } from '../transports/channels/registry.js';
import { ConfigError } from './config_error.js';

const SPEC_KEYS = new Set(['id', 'platform', 'tenant', 'agent', 'apiBase', 'mode', 'access', 'groups', 'rate']);
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_CHANNELS = 1000;
const MAX_ALLOWLIST = 10_000;

function str(v: unknown, what: string, max = 4096): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new ConfigError(`${what} must be a non-empty string of at most ${max} characters`);
  return v;
}

function rate(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 10_000) throw new ConfigError(`${what} must be a number above 0`);
  return v;
}

export function checkChannelsConfig(raw: unknown, agents: readonly AgentConfig[]): ChannelSpec[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.length > MAX_CHANNELS) throw new ConfigError(`channels must be an array of at most ${MAX_CHANNELS} entries`);
  const ids = new Set<string>();
  const agentIds = new Set(agents.map((a) => a.id));
  return raw.map((entry: unknown, i): ChannelSpec => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new ConfigError(`channels[${i}] must be an object`);
    const e = entry as Record<string, unknown>;
    const id = str(e.id, `channels[${i}].id`, 64);
    if (!ID.test(id)) throw new ConfigError(`channels[${i}].id must be 1-64 characters of [A-Za-z0-9_-] (it is part of the webhook URL)`);
    if (ids.has(id)) throw new ConfigError(`channel id "${id}" is given twice`);
    ids.add(id);
    const where = `channel ${id}`;
    const factory = adapterFactory(String(e.platform));
    if (factory === undefined) throw new ConfigError(`${where}: platform must be one of ${Object.keys(ADAPTERS).join(', ')} (got "${String(e.platform)}")`);
    const tenant = str(e.tenant, `${where}: tenant`, 128);
    const agent = e.agent === undefined ? undefined : str(e.agent, `${where}: agent`, 128);
    if (agent !== undefined && !agentIds.has(agent)) throw new ConfigError(`${where}: agent "${agent}" is not in "agents"`);
    const apiBase = e.apiBase === undefined ? undefined : str(e.apiBase, `${where}: apiBase`, 2048);
    if (apiBase !== undefined && !/^https?:\/\//.test(apiBase)) throw new ConfigError(`${where}: apiBase must be an http(s) URL`);
    if (e.mode !== undefined && e.mode !== 'webhook' && e.mode !== 'polling') throw new ConfigError(`${where}: mode must be "webhook" or "polling"`);
    const access = (e.access ?? {}) as { mode?: unknown; users?: unknown };
    const mode = (access.mode ?? 'pairing') as AccessMode;
    if (mode !== 'pairing' && mode !== 'allowlist' && mode !== 'open') throw new ConfigError(`${where}: access.mode must be pairing, allowlist or open`);
    const users = access.users ?? [];
    if (!Array.isArray(users) || users.length > MAX_ALLOWLIST || users.some((u) => typeof u !== 'string' && typeof u !== 'number')) {
      throw new ConfigError(`${where}: access.users must be an array of platform user ids`);
    }
    const groups = (e.groups ?? {}) as { respond?: unknown };
    const respond = groups.respond ?? 'mention';
    if (respond !== 'mention' && respond !== 'all') throw new ConfigError(`${where}: groups.respond must be "mention" or "all"`);
    const r = (e.rate ?? {}) as { perChatPerSecond?: unknown; perBotPerSecond?: unknown };
    const perChat = rate(r.perChatPerSecond, `${where}: rate.perChatPerSecond`);
    const perBot = rate(r.perBotPerSecond, `${where}: rate.perBotPerSecond`);
    const known = new Set([...factory.credentials, ...(factory.optionalCredentials ?? [])]);
    const credentials: Record<string, string> = {};
    for (const [key, value] of Object.entries(e)) {
      if (SPEC_KEYS.has(key)) continue;
      if (!known.has(key)) throw new ConfigError(`${where}: unknown field "${key}" (credentials for ${String(e.platform)}: ${[...known].join(', ')})`);
      credentials[key] = str(value, `${where}: ${key}`);
    }
    for (const key of factory.credentials) if (credentials[key] === undefined) throw new ConfigError(`${where}: "${key}" is required`);
    const spec: ChannelSpec = {
      id, platform: e.platform as ChannelPlatform, tenant,
      ...(agent === undefined ? {} : { agent }),
      ...(apiBase === undefined ? {} : { apiBase }),
      ...(e.mode === undefined ? {} : { mode: e.mode }),
      access: { mode, users: users.map(String) },
      groups: { respond },
      ...(perChat === undefined && perBot === undefined ? {} : { rate: { ...(perChat === undefined ? {} : { perChatPerSecond: perChat }), ...(perBot === undefined ? {} : { perBotPerSecond: perBot }) } }),
      credentials,
    };
    const problem = factory.check?.(spec);
    if (problem !== undefined) throw new ConfigError(`${where}: ${problem}`);
    return spec;
  });
}
