/**
 * Composition of the chat channels: resolves `secret:NAME` credentials from
 * the tenant's encrypted secret store, builds each channel's adapter from the
 * registry, and hands every channel the gateway's run path (with the chat
 * rate limits in front), pairings, dedup (Redis when configured), metrics,
 * audit and the scrubbed logger. A channel that cannot start is unhealthy;
 * the gateway and the other channels run on.
 */
import type { Registry } from 'prom-client';
import { loadKeyring, SecretBox, secretContext } from '../security/secrets.js';
import type { Principal } from '../security/types.js';
import type { AuditEvent, SealedSecret, TenantScope } from '../store/index.js';
import type { RedisConnection } from '../store/redis/index.js';
import type { ChatRunner } from '../transports/backend.js';
import { ChannelAuthError, type ChannelAdapter } from '../transports/channels/adapter.js';
import { MemoryPairingStore, type PairingStore } from '../transports/channels/access.js';
import { Channel, type ChannelLog, type ChannelRunner } from '../transports/channels/channel.js';
import type { ChannelSpec } from '../transports/channels/config.js';
import { LocalDeduper, RedisDeduper, type Deduper } from '../transports/channels/dedup.js';
import { ChannelHub } from '../transports/channels/hub.js';
import { createChannelMetrics } from '../transports/channels/metrics.js';
import { adapterFactory } from '../transports/channels/registry.js';
import type { GatewayConfig } from './config.js';

export interface ChannelsDeps {
  config: Pick<GatewayConfig, 'channels' | 'dataDir'>;
  /** The front door's startRun/abortRun (asked for lazily: the front door is built after the channels). */
  chat: () => ChatRunner;
  registry: Registry;
  /** The store worker's client; absent with TROUPE_STORE=none (pairings in memory, no audit, no secrets). */
  store: ChannelStore | undefined;
  redis: RedisConnection | undefined;
  pairings?: PairingStore;
  log: ChannelLog;
  env?: Record<string, string | undefined>;
  /** Tests: a shorter minimum time between two edits of a streamed reply. */
  editIntervalMs?: number;
}

const SECRET = 'secret:';

/** An adapter for a channel that could not be built: it starts as unhealthy, with the reason. */
function unavailable(spec: ChannelSpec, reason: string): ChannelAdapter {
  return {
    platform: spec.platform,
    limits: { maxChars: 1000, canEdit: false, perChatPerSecond: 1, perBotPerSecond: 1 },
    start: () => Promise.reject(new ChannelAuthError(reason)),
    stop: () => Promise.resolve(),
    render: (md) => md,
    send: () => Promise.reject(new Error(reason)),
  };
}

/** What the channels need of the store (gateway/store_client.ts: each one an ask or tell to the store worker). */
export interface ChannelStore {
  sealedSecret(tenant: string, name: string): Promise<SealedSecret | null>;
  audit(tenant: string, event: AuditEvent): void;
  ensureTenant(tenant: string): Promise<void>;
  withTenant<T>(tenant: string, fn: (scope: TenantScope) => Promise<T>): Promise<T>;
}

/** The spec with every `secret:NAME` credential replaced by the tenant's decrypted secret. */
export async function resolveChannelSecrets(spec: ChannelSpec, store: ChannelStore | undefined, open: () => Promise<SecretBox>): Promise<ChannelSpec> {
  const credentials: Record<string, string> = {};
  for (const [key, value] of Object.entries(spec.credentials)) {
    if (!value.startsWith(SECRET)) {
      credentials[key] = value;
      continue;
    }
    const name = value.slice(SECRET.length);
    if (store === undefined) throw new Error(`${key} names secret "${name}", but no store is configured`);
    const sealed = await store.sealedSecret(spec.tenant, name);
    if (sealed === null) throw new Error(`${key} names secret "${name}", which tenant ${spec.tenant} does not have (troupe secrets set)`);
    credentials[key] = (await open()).decrypt(sealed.ciphertext, secretContext(spec.tenant, name));
  }
  return { ...spec, credentials };
}

/** Pairings in the store's channel_pairings table (tenant-scoped under RLS), so the CLI and every gateway see them. */
export function storePairings(store: ChannelStore): PairingStore {
  const tenantReady = (tenant: string) => store.ensureTenant(tenant);
  return {
    isApproved: (tenant, channel, user) => store.withTenant(tenant, (s) => s.channelPairings.isApproved(channel, user)),
    request: async (tenant, channel, user, code, userName) => {
      await tenantReady(tenant);
      return store.withTenant(tenant, (s) => s.channelPairings.request(channel, user, code, userName));
    },
    approve: async (tenant, channel, code) => (await store.withTenant(tenant, (s) => s.channelPairings.approve(channel, code))) ?? undefined,
  };
}

/** Channels start runs through the one startRun (shutdown, the contract's rules, the chat limit, run tracking). */
function runnerFor(deps: ChannelsDeps): ChannelRunner {
  return {
    async start(p, params, sink) {
      const run = await deps.chat().startRun(p, params, sink);
      run.release();
      return { runId: run.runId };
    },
    async abort(p: Principal, sessionKey: string) {
      return (await deps.chat().abortRun(p, { sessionKey })).aborted;
    },
  };
}

/** Builds (not starts) one Channel per configured channel. */
export async function createChannels(deps: ChannelsDeps): Promise<ChannelHub> {
  const metrics = createChannelMetrics(deps.registry);
  const dedup: Deduper = deps.redis === undefined
    ? new LocalDeduper()
    : new RedisDeduper(deps.redis, 'troupe:chan:seen:', undefined, (err) => deps.log('warn', 'channel dedup on Redis failed; using the local one', { error: String(err) }));
  const pairings = deps.pairings ?? (deps.store === undefined ? new MemoryPairingStore() : storePairings(deps.store));
  const runner = runnerFor(deps);
  let box: Promise<SecretBox> | undefined;
  const openBox = () => (box ??= loadKeyring({ env: deps.env ?? process.env, dataDir: deps.config.dataDir }).then((k) => new SecretBox(k.keyring)));
  const channels: Channel[] = [];
  for (const configured of deps.config.channels) {
    let adapter: ChannelAdapter;
    let spec = configured;
    try {
      spec = await resolveChannelSecrets(configured, deps.store, openBox);
      const factory = adapterFactory(spec.platform);
      if (factory === undefined) throw new Error(`no adapter for platform ${spec.platform}`);
      adapter = await factory.create(spec);
    } catch (err) {
      adapter = unavailable(configured, String((err as Error)?.message ?? err));
    }
    channels.push(new Channel(spec, adapter, {
      runner, pairings, dedup, metrics, log: deps.log,
      audit: (tenant, event) => {
        deps.store?.audit(tenant, event);
      },
      ...(deps.editIntervalMs === undefined ? {} : { editIntervalMs: deps.editIntervalMs }),
    }));
  }
  return new ChannelHub(channels, metrics);
}
