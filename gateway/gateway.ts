/**
 * Start-up and shutdown of the whole gateway: the actor system and its
 * workers, the backend, authentication, limits, metrics, and the front door.
 */
import { join } from 'node:path';
import { ActorBackend } from '../actors/backend.js';
import { TeamCoordinator } from '../actors/team/coordinator.js';
import { checkTeams } from './teams_config.js';
import { leadPort } from './team_lead_port.js';
import { Screener } from '../security/injection.js';
import { rootLog } from '../observability/log.js';
import { apiKeyCache } from './api_key_cache.js';
import { registerAdminApi } from './admin_api/index.js';
import { changeNotices } from './change_notices.js';
import { consoleAssets } from './console_assets.js';
import { createChannels } from './channels.js';
import type { ChannelHub } from '../transports/channels/hub.js';
import { createGatewayAuthenticator } from './auth.js';
import { bootGateway, TRACE_ENVELOPE, type BootedGateway } from './boot.js';
import type { StoreClient } from './store_client.js';
import type { ActorSystem } from '../runtime/index.js';
import { GATEWAY_STORE_CALLS } from './store_calls.js';
import { MAX_TENANT_PROVIDERS } from './provider_limits.js';
import { MAX_SERVERS } from '../tools/mcp/config.js';
import { createJwtAuthenticator, signToken } from '../security/jwt.js';
import type { TokenSigner } from './admin_api/token.js';
import { createFrontDoor, type ChatRunner, type FrontDoor, type RunEnd } from '../transports/index.js';
import { IdempotencyStore, LocalBudgetCounter, RedisBudgetCounter, RedisConnection } from '../store/redis/index.js';
import type { ScopedLimiter } from '../security/types.js';
import type { GatewayConfig } from './config.js';
import { scopedLimiter } from './limits.js';
import { createRegistry, registerProviderMetrics, registerToolMetrics, registerTracingMetrics } from './metrics.js';
import { stopTracing } from '../observability/tracing.js';
import type { ProviderHostMessage } from '../actors/provider/host.js';
import type { ToolHostMessage, ToolsConfig } from '../actors/tool_host.js';
import type { ActorRef } from '../runtime/index.js';
import { describeMemory } from './memory_config.js';
import { UsageRecorder } from './usage_recorder.js';

export interface RunningGateway {
  config: GatewayConfig;
  url: string;
  port: number;
  engine: string;
  system: ActorSystem;
  backend: ActorBackend;
  /** The team coordinator (absent without a store, or with no teams and no delegation). */
  teams: TeamCoordinator | undefined;
  frontDoor: FrontDoor;
  /** The store worker (the one owner of the database); absent with TROUPE_STORE=none. */
  store: StoreClient | undefined;
  limiters: { connect: ScopedLimiter; chat: ScopedLimiter };
  /** The configured chat channels (see docs/channels.md). */
  channels: ChannelHub;
  /**
   * A short-lived chat token for trying the gateway out: only when the signing
   * secret was generated into the data dir, never when the operator set one
   * (TROUPE_JWT_SECRET, jwt.secret) or TROUPE_JWKS.
   */
  devToken?: string;
  /** Drains runs in flight until the deadline, then stops everything. Idempotent. */
  shutdown(): Promise<void>;
}

/** How long start-up waits for channels to check their credentials; slower ones finish in the background. */
const CHANNEL_START_WAIT_MS = 5_000;

/** How long the start-up banner's dev token lives. */
export const DEV_TOKEN_TTL_SEC = 3_600;

export async function startGateway(
  config: GatewayConfig,
  opts: { channelEditIntervalMs?: number; /** Tests: how often an idle WS with an API key has it checked. */ keyIdleRecheckMs?: number; /** bootGateway(config), started earlier (the CLI does). */ boot?: Promise<BootedGateway> } = {},
): Promise<RunningGateway> {
  // The workers and the store's open first: they run on their threads while Redis is reached.
  const booting = opts.boot ?? bootGateway(config);
  // The one logger (observability/log.ts): JSON lines, credentials scrubbed, level from TROUPE_LOG_LEVEL.
  const logger = rootLog();
  const log = (msg: string, err: unknown) => logger.warn(msg, { error: String(err) });
  const redis = config.redisUrl === undefined ? undefined : new RedisConnection({
    url: config.redisUrl,
    logger: logger.child({ component: 'redis' }),
  });
  if (redis !== undefined && !(await redis.waitUntilUp(3_000))) logger.warn('redis not reachable at start-up; running on in-process limits until it is');
  const { system, store } = await booting.catch(async (err: unknown) => {
    await redis?.close().catch(() => undefined);
    throw err;
  });
  let frontDoor: FrontDoor | undefined;
  let chatRunner: ChatRunner | undefined;
  let coordinatorRef: TeamCoordinator | undefined;
  try {
    const providerHosts: ActorRef<ProviderHostMessage>[] = [];
    // With a store, tenants may add providers of their own (admin API): every worker needs its host.
    if (config.providers.length > 0 || store !== undefined) {
      // One provider host per worker: agents there get limits, retries, breakers and failover.
      const module = new URL('../actors/provider/host.js', import.meta.url).href;
      for (const worker of system.workers?.hosts ?? []) {
        providerHosts.push(system.spawn<ProviderHostMessage>({ module, export: 'providerHost', args: { specs: config.providers } }, { placement: { worker }, restart: 'permanent' }));
      }
      // Not awaited: a run that reaches a worker before its host has loaded waits for it there
      // (providerRegistryReady in actors/provider/host.ts), so the port need not wait for all of them.
    }
    const registry = createRegistry(system);
    registerProviderMetrics(registry, providerHosts);
    if (config.tracing !== undefined) {
      // Every thread exports its own spans: the workers and the store worker (a reserved host) report their counts.
      const exporting = [...(system.workers?.hosts ?? []), ...(system.workers?.reservedHosts ?? [])];
      registerTracingMetrics(registry, exporting.map((worker) =>
        system.spawn<'counts'>({ module: TRACE_ENVELOPE, export: 'traceCounts' }, { placement: { worker }, restart: 'permanent' })));
    }
    const screener = new Screener({
      action: config.injectionAction,
      onMatch: (family, source) => registry.troupe.injectionMatches.inc(family, source, config.injectionAction),
    });
    // Teams (and delegation) keep their board in the store: without one they are off.
    const { teams, agents, storeOnly } = checkTeams(config.teams ?? [], config.agents);
    // With a store, a tenant's agents are the store's (seeded once from the file), for chat runs and
    // team runs alike; a team may name agents that tenants define only in the store.
    const leadsOf = new Map<string, string[]>();
    for (const t of teams) leadsOf.set(t.lead, [...(leadsOf.get(t.lead) ?? []), t.id]);
    const loadAgents = store === undefined ? undefined : async (tenant: string) => {
      const loaded = await store.tenantAgents(tenant, config.agents, config.tools.mcpServers ?? {}, config.dataDir);
      return { ...loaded, agents: loaded.agents.map((a) => {
        const leads = leadsOf.get(a.id);
        return leads === undefined ? a : { ...a, leads };
      }) };
    };
    if (storeOnly.length > 0 && store !== undefined) {
      logger.warn('teams name agents that are not in the config file: each tenant must define them (PUT /admin/v1/agents/:id); until then a task for one is refused', { agents: storeOnly });
    }
    const wantTeams = store !== undefined && (teams.length > 0 || agents.some((a) => (a.allowAgents ?? []).length > 0));
    // Usage and budgets: every run's end is reported by the front door's startRun, whichever door started
    // it, and by the team coordinator for its lead turns and its members' and reviewers' attempts.
    const usage = new UsageRecorder({
      pricing: config.pricing, budgets: config.budgets, counter: redis === undefined ? new LocalBudgetCounter() : new RedisBudgetCounter(redis),
      agents, defaultAgent: config.defaultAgent, registry, log: logger.child({ component: 'usage' }),
      ...(store === undefined ? {} : { store }),
    });
    const recordUsage = (end: RunEnd): void => usage.runEnded(end);
    const lead: { backend?: ActorBackend } = {};
    const coordinator = !wantTeams ? undefined : new TeamCoordinator({
      system, store, teams, agents, log, lead: leadPort(() => lead.backend, recordUsage), onRunEnd: recordUsage,
      // Members, reviewers and delegates run on the tenant's definitions, as its chat runs do.
      definitions: (tenant: string) => {
        if (lead.backend === undefined) return Promise.reject(Object.assign(new Error('the gateway is starting'), { code: 'UNAVAILABLE' }));
        return lead.backend.definitions(tenant);
      },
      ensureTenant: (t: string) => store.ensureTenant(t),
    });
    // /health's memory line: filled in once the store worker has opened the store.
    const healthInfo: Record<string, unknown> = {};
    const backend = new ActorBackend(system, {
      ...(coordinator === undefined ? {} : { teams: coordinator }),
      screenInput: (text, caller) => {
        const verdict = screener.enforce(text, 'user');
        if (verdict.action === 'allow') return;
        // log: an info line; warn and block: a warning (block also refuses the input, FORBIDDEN).
        const fields = {
          source: 'user', action: verdict.action, tenant: caller.tenant, user: caller.user, families: verdict.matches.map((m) => m.family),
        };
        // Called as methods: the logger's level functions need their `this`.
        if (verdict.action === 'log') logger.info('prompt injection in user input', fields);
        else logger.warn('prompt injection in user input', fields);
      },
      agents, defaultAgent: config.defaultAgent, sessionIdleMs: config.sessionIdleMs,
      ...(loadAgents === undefined || store === undefined ? {} : {
        loadAgents,
        // A tenant provider's key is opened on the store worker when a worker's call first needs it.
        providerKeys: { store: store.ref, module: GATEWAY_STORE_CALLS, export: 'providerKey', extra: { dataDir: config.dataDir } },
        // A tenant MCP server's sealed headers or env, opened there when a worker connects it.
        mcpSecrets: { store: store.ref, module: GATEWAY_STORE_CALLS, export: 'mcpSecretValues', extra: { dataDir: config.dataDir } },
      }),
      ...(store === undefined ? {} : { persistRef: store.ref, ready: () => store.ready }),
      historyLimit: config.historyLimit,
      enableFaults: config.enableFaults,
      healthInfo,
      ...(redis === undefined ? {} : { idempotency: new IdempotencyStore(redis) }),
    });
    lead.backend = backend;
    // Another gateway changed a tenant's agents: read them again and push them to this one's workers.
    const notices = changeNotices(redis, {
      changed: (kind, tenant) => {
        if (kind === 'agents') backend.reloadAgents(tenant).catch((err: unknown) => log(`reloading the agents of ${tenant} failed`, err));
      },
      resync: () => { backend.reloadAllAgents().catch((err: unknown) => log('reloading agents failed', err)); },
      warn: (msg, err) => log(msg, err),
    });
    const admin = store?.admin(config.dataDir);
    const configProviderIds = new Set(config.providers.map((p) => p.id));
    const agentsChanged = async (tenant: string): Promise<void> => {
      await backend.reloadAgents(tenant);
      await notices.publish('agents', tenant);
    };
    coordinatorRef = coordinator;
    await coordinator?.start();
    // One tool host per worker: the built-in tools, MCP servers and isolated tools its agents can call.
    const toolModule = new URL('../actors/tool_host.js', import.meta.url).href;
    // With a store, the file's MCP servers seed each tenant's own (admin API) instead of serving every tenant.
    const { mcpServers: fileMcpServers, ...fileTools } = config.tools;
    const toolArgs: ToolsConfig = { ...(store === undefined ? config.tools : fileTools), workspaceRoot: join(config.dataDir, 'workspaces'), injectionAction: config.injectionAction,
      ...(backend.persistenceRef === undefined ? {} : { memory: backend.persistenceRef }) };
    const toolHosts = (system.workers?.hosts ?? []).map((worker) =>
      system.spawn<ToolHostMessage>({ module: toolModule, export: 'toolHost', args: toolArgs }, { placement: { worker }, restart: 'permanent' }));
    registerToolMetrics(registry, toolHosts);
    // Listen only once every worker's tools (MCP servers included) are registered, so no first turn runs without them.
    const toolsReadyMs = (config.tools.mcp?.connectTimeoutMs ?? 15_000) + 15_000;
    await Promise.all(toolHosts.map((h) => h.ask({ t: 'health' }, { timeoutMs: toolsReadyMs }).catch((err: unknown) => log('tool host not ready', err))));
    const jwt = createJwtAuthenticator({
      ...(config.jwt.jwks !== undefined ? { jwks: config.jwt.jwks } : { secret: config.jwt.secret }),
      ...(config.jwt.issuer !== undefined ? { issuer: config.jwt.issuer } : {}),
      ...(config.jwt.audience !== undefined ? { audience: config.jwt.audience } : {}),
    });
    const keys = store === undefined ? undefined : apiKeyCache((hash) => store.findApiKeyByHash(hash), redis);
    const authenticator = createGatewayAuthenticator(jwt, store === undefined || keys === undefined ? undefined : {
      find: keys.lookup,
      keyLive: (tenant, id) => store.apiKeyLive(tenant, id),
      audit: (tenant, event) => store.audit(tenant, event),
    });
    const limiters = {
      connect: scopedLimiter(config.limits.connect, redis, 'troupe:rl:connect:', (m) => logger.warn(m, { component: 'limits' })),
      chat: scopedLimiter(config.limits.chat, redis, 'troupe:rl:chat:', (m) => logger.warn(m, { component: 'limits' })),
    };
    const channels = await createChannels({
      config, chat: () => (chatRunner ??= (frontDoor as FrontDoor).chatRunner('channel')), registry, redis,
      store,
      log: (level, msg, fields) => (level === 'debug' ? undefined : logger[level](msg, fields)),
      ...(opts.channelEditIntervalMs === undefined ? {} : { editIntervalMs: opts.channelEditIntervalMs }),
    });
    frontDoor = createFrontDoor({
      backend,
      channels,
      onRefused: ({ principal, what, needed, ip }) => store?.audit(principal.tenant, {
        actor: principal.user, action: 'access.denied', target: what, outcome: 'denied',
        ...(ip === undefined ? {} : { sourceIp: ip }), detail: { needed, scopes: principal.scopes, via: principal.via },
      }),
      authenticator,
      limiters,
      // The admin API (docs/admin.md): every route through the same edge, scope table and audit chain.
      routes: (edge) => registerAdminApi(edge, {
        // Every admin operation runs on the store worker (storeAdmin there, gateway/store_calls.ts).
        store: admin,
        channels: config.channels, invalidateKey: (hash) => keys?.invalidate(hash) ?? Promise.resolve(),
        agents: {
          seed: config.agents, changed: agentsChanged,
          providerIds: async (tenant) => [...configProviderIds, ...((await admin?.listProviders(tenant, MAX_TENANT_PROVIDERS)) ?? []).map((p) => p.row.id)],
        },
        providers: { configIds: configProviderIds, maxPerTenant: MAX_TENANT_PROVIDERS, changed: agentsChanged },
        sign: signer(config),
        mcpServers: {
          seed: fileMcpServers ?? {}, stdioLimits: config.tools.mcp?.stdioLimits ?? {}, allowHosts: config.tools.mcp?.http?.allowHosts ?? [],
          maxPerTenant: MAX_SERVERS, changed: agentsChanged,
        },
        log: (msg, err) => logger.warn(msg, { component: 'admin', error: String(err) }),
      }),
      // The web console (docs/admin.md): static files; its data comes through the routes above.
      console: consoleAssets(),
      metrics: registry,
      logger,
      ...(usage.gate === undefined ? {} : { budgets: usage.gate }),
      usage,
      config: {
        host: config.host,
        port: config.port,
        maxConnections: config.limits.maxConnections,
        maxPayloadBytes: config.limits.maxPayloadBytes,
        allowedOrigins: config.allowedOrigins,
        ...(config.metricsToken === undefined ? {} : { metricsToken: config.metricsToken }),
        shutdownDeadlineMs: config.shutdownDeadlineMs,
        allowFallback: config.allowFallback,
        ...(opts.keyIdleRecheckMs === undefined ? {} : { keyIdleRecheckMs: opts.keyIdleRecheckMs }),
      },
    });
    const { port } = await frontDoor.listen();
    if (channels.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([channels.start(), new Promise((resolve) => { timer = setTimeout(resolve, CHANNEL_START_WAIT_MS); })]);
      clearTimeout(timer);
    }
    logger.info('gateway listening', { host: config.host, port, engine: frontDoor.engine, workers: system.workers?.size ?? 0, store: config.store.kind });
    // Listening already (/health answers, /ready says 503); resolve once the store is open, which
    // happened alongside the workers' start rather than before it.
    await store?.whenReady();
    if (store?.memory !== undefined) healthInfo.memory = describeMemory(store.memory.embedder, store.memory.vectorSearch);
    const generatedSecret = config.jwtSecretSource === 'generated' || config.jwtSecretSource === 'file';
    const devToken = config.jwt.secret === undefined || !generatedSecret ? undefined : await signToken({
      secret: config.jwt.secret, tenant: 'dev', user: 'dev', scopes: ['chat'], ttlSec: DEV_TOKEN_TTL_SEC,
      ...(config.jwt.issuer !== undefined ? { issuer: config.jwt.issuer } : {}),
      ...(config.jwt.audience !== undefined ? { audience: config.jwt.audience } : {}),
    });
    const door = frontDoor;
    let stopping: Promise<void> | undefined;
    return {
      config,
      url: `http://${config.host}:${port}`,
      port,
      engine: door.engine,
      system,
      backend,
      teams: coordinator,
      frontDoor: door,
      store,
      limiters,
      channels,
      devToken,
      shutdown() {
        stopping ??= (async () => {
          await door.shutdown();
          await channels.stop();
          await coordinator?.close();
          backend.close();
          notices.close();
          // Runs have drained: write what is queued while every actor is still up. Stopping the
          // store host then flushes anything later and closes the database.
          await store?.flush(Math.max(config.shutdownDeadlineMs, 10_000)).catch((err: unknown) => log('flushing on shutdown failed', err));
          store?.close();
          await system.shutdown(Math.min(config.shutdownDeadlineMs, 5_000));
          await redis?.close();
          // Last: the spans of everything above are flushed (the workers' went with their threads).
          if (config.tracing !== undefined) await stopTracing();
        })();
        return stopping;
      },
    };
  } catch (err) {
    await frontDoor?.shutdown().catch(() => undefined);
    await coordinatorRef?.close().catch(() => undefined);
    store?.close();
    await system.shutdown(1_000);
    if (config.tracing !== undefined) await stopTracing();
    await redis?.close().catch(() => undefined);
    throw err;
  }
}

/** Sign-in tokens (POST /admin/v1/token) with the gateway's HS256 secret; none when it verifies with a JWKS. */
function signer(config: GatewayConfig): TokenSigner | undefined {
  const { secret, issuer, audience } = config.jwt;
  if (secret === undefined) return undefined;
  return (c) => signToken({
    secret, tenant: c.tenant, user: c.user, scopes: c.scopes, ttlSec: c.ttlSec, now: c.now,
    ...(c.keyId === undefined ? {} : { keyId: c.keyId }), ...(issuer === undefined ? {} : { issuer }), ...(audience === undefined ? {} : { audience }),
  });
}
