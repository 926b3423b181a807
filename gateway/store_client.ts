/**
 * The main thread's handle on the store worker (actors/store_host.ts): spawns
 * the store host on the pool's reserved worker, tracks whether the database is
 * open (for /ready), and offers the calls the gateway makes. The main thread
 * never opens the database itself: every read and write here is an ask or a
 * tell to the store host.
 */
import type { RemoteRepo, StoreHostArgs, StoreReady, StoreRequest } from '../actors/store_host.js';
import type { ActorRef, ActorSystem } from '../runtime/index.js';
import type { ApiKeyMatch, AuditEvent, SealedSecret, TenantScope, UsageEvent, UsageQuery, UsageRow } from '../store/index.js';
import type { StoreSettings } from '../store/settings.js';
import type { AgentConfig } from '../actors/protocol.js';
import type { AdminStore } from './admin_api/admin_store.js';
import type { AgentDefinition } from './agent_definition.js';
import type { TenantProvider } from '../actors/provider/tenant_layers.js';
import type { TenantMcpServer } from '../actors/tenant_mcp.js';
import type { McpServerConfig } from '../tools/mcp/config.js';
import { GATEWAY_STORE_CALLS } from './store_calls.js';
import { untraced } from '../observability/tracing.js';

/** Longest wait for the database to open (a first PGlite start on a busy machine is slow). */
const OPEN_TIMEOUT_MS = 120_000;

export class StoreClient {
  readonly ref: ActorRef<StoreRequest>;
  private open = false;
  /** What the store worker said about memory once the store was open (the banner, /health). */
  memory: StoreReady['memory'] | undefined;
  private closed = false;
  private readonly unsubscribe: (() => void) | undefined;

  constructor(private readonly system: ActorSystem, settings: StoreSettings, private readonly log: (msg: string, err: unknown) => void) {
    const host = system.workers?.reservedHosts[0];
    const args: StoreHostArgs = { store: settings };
    this.ref = system.spawn<StoreRequest>(
      { module: new URL('../actors/store_host.js', import.meta.url).href, export: 'storeHost', args },
      { restart: 'permanent', mailbox: { capacity: 100_000 }, ...(host === undefined ? {} : { placement: { worker: host } }) },
    );
    // A replaced store worker opens the database again: not ready until it has.
    this.unsubscribe = host === undefined ? undefined : system.workers?.onEvent((e) => {
      if (e.host !== host) return;
      if (e.type === 'worker-exit') this.open = false;
      else this.watch();
    });
    this.watch();
  }

  /** True once the database is open (and again after a replaced worker reopened it). */
  get ready(): boolean {
    return this.open;
  }

  /** Resolves when the database is open. */
  async whenReady(timeoutMs = OPEN_TIMEOUT_MS): Promise<void> {
    const r = await this.ref.ask<StoreReady>({ t: 'ready' }, { timeoutMs });
    this.memory = r.memory;
    this.open = true;
  }

  private watch(): void {
    this.whenReady().catch((err: unknown) => {
      if (!this.closed) this.log('the store did not open', err);
    });
  }

  /** The live API key with this hash. Rejects with a retryable UNAVAILABLE while the store worker is replaced. */
  findApiKeyByHash(hash: string): Promise<ApiKeyMatch | null> {
    return this.ref.ask({ t: 'api-key', hash }, { timeoutMs: OPEN_TIMEOUT_MS }) as Promise<ApiKeyMatch | null>;
  }

  /** Whether the tenant's API key with this id is live. Rejects with a retryable UNAVAILABLE while the store worker is replaced. */
  apiKeyLive(tenant: string, id: string): Promise<boolean> {
    return this.ref.ask({ t: 'api-key-live', tenant, id }, { timeoutMs: OPEN_TIMEOUT_MS }) as Promise<boolean>;
  }

  /** Records an audit event (write-behind, scrubbed in the store worker). */
  audit(tenant: string, event: AuditEvent): void {
    this.ref.tell({ t: 'audit', tenant, event: { ...event, at: event.at ?? new Date() } });
  }

  /** A tenant's sealed secret (channel credentials named `secret:NAME`). */
  sealedSecret(tenant: string, name: string): Promise<SealedSecret | null> {
    return this.call(GATEWAY_STORE_CALLS, 'sealedSecret', { tenant, name });
  }

  /**
   * Records a finished run's usage row (write-behind, batched per tenant). Sent untraced: the
   * queue takes the row at once and writes its batch later, so a span for it would measure nothing.
   */
  usage(tenant: string, event: UsageEvent): void {
    untraced(this.tellUsage, { t: 'usage', tenant, event });
  }

  private readonly tellUsage = (msg: StoreRequest): void => this.ref.tell(msg);

  /** A tenant's agents (seeded once from `seed`, the config file's), own providers (without keys) and MCP servers (seeded once from `mcpSeed`; without values). */
  tenantAgents(
    tenant: string, seed: AgentDefinition[], mcpSeed: Record<string, McpServerConfig>, dataDir: string,
  ): Promise<{ agents: AgentConfig[]; providers: TenantProvider[]; mcpServers: TenantMcpServer[] }> {
    return this.call(GATEWAY_STORE_CALLS, 'tenantAgents', { tenant, seed, mcpSeed, dataDir });
  }

  /** Usage totals (GET /v1/usage); flush first for rows still queued. */
  usageSummary(tenant: string | undefined, query: UsageQuery): Promise<UsageRow[]> {
    return this.call(GATEWAY_STORE_CALLS, 'usageSummary', { ...(tenant === undefined ? {} : { tenant }), query });
  }

  /** The admin API's data access (/admin/v1): each AdminStore method is one named call on the store worker. */
  admin(dataDir: string): AdminStore {
    return new Proxy({}, {
      get: (_target, method) => typeof method !== 'string' || method === 'then' ? undefined
        : (...args: unknown[]) => this.call(GATEWAY_STORE_CALLS, 'adminStore', { method, args, dataDir }),
    }) as AdminStore;
  }

  /** Creates the tenant's row unless it exists. */
  async ensureTenant(tenant: string): Promise<void> {
    await this.ref.ask({ t: 'ensure-tenant', tenant }, { timeoutMs: OPEN_TIMEOUT_MS });
  }

  /** Tenants with team runs (the team coordinator's resume). */
  teamTenants(): Promise<string[]> {
    return this.call(GATEWAY_STORE_CALLS, 'teamTenants', {});
  }

  /**
   * `fn` with a stand-in for the tenant's scope whose repositories (REMOTE_REPOS) run on
   * the store worker: each method call is one ask, in a transaction of its own, so several
   * calls in `fn` are not one transaction.
   */
  withTenant<T>(tenant: string, fn: (scope: TenantScope) => Promise<T>): Promise<T> {
    return fn(this.remoteScope(tenant));
  }

  private remoteScope(tenant: string): TenantScope {
    const repo = (name: RemoteRepo) => new Proxy({}, {
      get: (_target, method) => typeof method !== 'string' || method === 'then' ? undefined
        : (...args: unknown[]) => this.ref.ask({ t: 'repo', tenant, repo: name, method, args }, { timeoutMs: OPEN_TIMEOUT_MS }),
    });
    return { tenantId: tenant, teamRuns: repo('teamRuns'), teamTasks: repo('teamTasks'), channelPairings: repo('channelPairings') } as unknown as TenantScope;
  }

  /** Runs `fn(store, args)` (a StoreCall), exported as `exportName` from `module`, on the store worker. */
  call<A, R>(module: string | URL, exportName: string, args: A): Promise<R> {
    return this.ref.ask({ t: 'call', module: String(module), export: exportName, args }, { timeoutMs: OPEN_TIMEOUT_MS }) as Promise<R>;
  }

  /** Writes everything queued so far (SIGTERM, before the actors stop). */
  async flush(timeoutMs: number): Promise<void> {
    await this.ref.ask({ t: 'flush' }, { timeoutMs });
  }

  close(): void {
    this.closed = true;
    this.unsubscribe?.();
  }
}
