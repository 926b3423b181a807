/**
 * `troupe channels list|add|remove|pair`: the chat channels of the config
 * file and the users paired with them. `add` and `remove` edit the config
 * file (checked before it is written); `pair` approves a one-time code a user
 * received from the bot, in the store, with an audit row.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { adapterFactory } from '../transports/channels/registry.js';
import { AdminUsageError, auditAdmin, command, EXIT_OK, required, resolveConfig, withStore, type AdminContext, type ConfigSource } from './admin_support.js';
import { ArgvError, parseArgv, type ArgvValues } from './argv.js';
import { checkChannelsConfig } from './channels_config.js';
import type { GatewayConfig } from './config.js';
import { ConfigError } from './config_error.js';

export const CHANNELS_USAGE = `  channels list                         the configured chat channels, their webhook paths and paired users
  channels add --id ID --platform P --tenant T [--agent A] [--access pairing|allowlist|open]
               [--mode webhook|polling] [--api-base URL] [--set FIELD=VALUE ...]
                                        add a channel to the config file (credentials with --set,
                                        e.g. --set token=secret:TG_TOKEN)
  channels remove ID                    remove a channel from the config file
  channels pair CHANNEL CODE            approve the user who received this pairing code
`;

type ChannelsConfig = Pick<GatewayConfig, 'store' | 'dataDir' | 'channels' | 'agents'>;

export interface ChannelsContext extends AdminContext {
  config: ChannelsConfig;
  /** The config file `add` and `remove` edit (--config or TROUPE_CONFIG). */
  configFile?: string;
}

/** What the CLI hands over: the configuration is loaded once `--config` is parsed. */
export interface ChannelsCliContext extends Omit<ChannelsContext, 'config'> {
  config: ConfigSource<ChannelsConfig>;
}

const S = { type: 'string' } as const;
const OPTIONS = {
  config: S, id: S, platform: S, tenant: S, agent: S, access: S, mode: S, 'api-base': S, set: { type: 'string', multiple: true },
} as const;

function readJson(file: string): Record<string, unknown> {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new AdminUsageError(`${file} is not a JSON object`);
  return parsed as Record<string, unknown>;
}

/** Writes the config file atomically, after checking its channels block. */
function writeChannels(ctx: ChannelsContext, file: string, doc: Record<string, unknown>, channels: unknown[]): void {
  try {
    checkChannelsConfig(channels, ctx.config.agents);
  } catch (err) {
    if (err instanceof ConfigError) throw new AdminUsageError(err.message);
    throw err;
  }
  const next = { ...doc, channels };
  writeFileSync(`${file}.tmp`, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

async function list(ctx: ChannelsContext): Promise<number> {
  if (ctx.config.channels.length === 0) {
    ctx.out('no channels configured');
    return EXIT_OK;
  }
  for (const c of ctx.config.channels) {
    const inbound = c.mode === 'polling' ? 'polling' : `POST /channels/${c.id}`;
    ctx.out(`${c.id}  ${c.platform}  tenant=${c.tenant}  agent=${c.agent ?? '(default)'}  access=${c.access.mode}  ${inbound}`);
  }
  if (ctx.config.store.kind === 'none') return EXIT_OK;
  return withStore(ctx, true, async (store) => {
    for (const c of ctx.config.channels) {
      if ((await store.tenants.get(c.tenant)) === null) continue;
      const rows = await store.withTenant(c.tenant, (s) => s.channelPairings.list(c.id));
      for (const r of rows) ctx.out(`  ${c.id}: user ${r.userId}${r.userName === null ? '' : ` (${r.userName})`} ${r.status}${r.status === 'pending' ? ` code ${r.code}` : ''}`);
    }
    return EXIT_OK;
  });
}

function add(ctx: ChannelsContext, file: string, v: ArgvValues<typeof OPTIONS>): number {
  const id = required(v.id, '--id');
  const platform = required(v.platform, '--platform');
  if (adapterFactory(platform) === undefined) throw new AdminUsageError(`unknown platform "${platform}"`);
  const doc = readJson(file);
  const channels = Array.isArray(doc.channels) ? [...(doc.channels as unknown[])] : [];
  if (channels.some((c) => (c as { id?: unknown }).id === id)) throw new AdminUsageError(`channel ${id} exists already`);
  const entry: Record<string, unknown> = { id, platform, tenant: required(v.tenant, '--tenant') };
  if (v.agent !== undefined) entry.agent = v.agent;
  if (v['api-base'] !== undefined) entry.apiBase = v['api-base'];
  if (v.mode !== undefined) entry.mode = v.mode;
  if (v.access !== undefined) entry.access = { mode: v.access };
  for (const pair of v.set) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new AdminUsageError(`--set needs FIELD=VALUE (got "${pair}")`);
    entry[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  channels.push(entry);
  writeChannels(ctx, file, doc, channels);
  ctx.out(`added channel ${id} (${platform}) to ${file}; its webhook URL is https://<your host>/channels/${id}; restart the gateway to start it`);
  return EXIT_OK;
}

function remove(ctx: ChannelsContext, file: string, id: string): number {
  const doc = readJson(file);
  const channels = Array.isArray(doc.channels) ? (doc.channels as unknown[]) : [];
  const kept = channels.filter((c) => (c as { id?: unknown }).id !== id);
  if (kept.length === channels.length) throw new AdminUsageError(`no channel ${id} in ${file}`);
  writeChannels(ctx, file, doc, kept);
  ctx.out(`removed channel ${id} from ${file}; restart the gateway to stop it`);
  return EXIT_OK;
}

async function pair(ctx: ChannelsContext, channelId: string, code: string): Promise<number> {
  const channel = ctx.config.channels.find((c) => c.id === channelId);
  if (channel === undefined) throw new AdminUsageError(`no channel ${channelId} in the configuration`);
  return withStore(ctx, true, async (store) => {
    if ((await store.tenants.get(channel.tenant)) === null) throw new AdminUsageError(`no pairing request on ${channelId} yet (tenant ${channel.tenant} has no data)`);
    const user = await store.withTenant(channel.tenant, async (s) => {
      const approved = await s.channelPairings.approve(channelId, code);
      await auditAdmin(s, 'channel.pairing.approve', approved === null ? 'failure' : 'success', `${channelId}:${approved ?? '?'}`, { channel: channelId });
      return approved;
    });
    if (user === null) throw new AdminUsageError(`no pending pairing on ${channelId} with code ${code}`);
    ctx.out(`approved user ${user} on channel ${channelId}`);
    return EXIT_OK;
  });
}

/** Runs `channels <sub> …` (argv without the leading `channels`) and returns the exit code. */
export function runChannelsCommand(args: readonly string[], cli: ChannelsCliContext): Promise<number> {
  return command(cli, async () => {
    let parsed, config;
    try {
      parsed = parseArgv(args, OPTIONS, { positionals: 3 });
      config = resolveConfig(cli.config, parsed.values.config);
    } catch (err) {
      if (err instanceof ArgvError || err instanceof ConfigError) throw new AdminUsageError(err.message);
      throw err;
    }
    const { values } = parsed;
    const ctx: ChannelsContext = { ...cli, config, ...(values.config === undefined ? {} : { configFile: values.config }) };
    const [sub, ...rest] = parsed.positionals;
    const file = () => required(ctx.configFile, '--config (or TROUPE_CONFIG)');
    switch (sub) {
      case 'list':
        return list(ctx);
      case 'add':
        return add(ctx, file(), values);
      case 'remove':
        if (rest.length !== 1) throw new AdminUsageError('channels remove needs the channel id');
        return remove(ctx, file(), rest[0]);
      case 'pair':
        if (rest.length !== 2) throw new AdminUsageError('channels pair needs the channel id and the code');
        return pair(ctx, rest[0], rest[1]);
      default:
        throw new AdminUsageError(`unknown command "channels ${sub ?? ''}"\n\n${CHANNELS_USAGE}`);
    }
  });
}
