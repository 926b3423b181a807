/**
 * ActorBackend: what the front door calls (it satisfies transports'
 * GatewayBackend structurally; both speak the one chat contract, chat_contract.ts). It runs on the main thread, keeps a directory of
 * live session actors, spawns them on demand on the worker their key hashes to,
 * and routes run events from the workers back to each run's sink.
 *
 *   front door ──ask──► session (worker k) ──tell──► agent (worker k)
 *        ▲                                              │ deltas, final
 *        └──── sink ◄── router actor (main) ◄──tell─────┘
 */
import { randomUUID } from 'node:crypto';
import {
  isTerminated, type ActorRef, type ActorSystem, type Behavior, type RuntimeError,
} from '../runtime/index.js';
import {
  checkRunParams, checkSessionKey, isStateless, type Caller, type ChatSendParams, type EventSink, type RunAccepted, type RunTarget,
} from './chat_contract.js';
import { currentContext, withContext } from '../observability/tracing.js';
import type { TaskFilter, TeamTaskStatus } from '../store/index.js';
import type { TeamRequest, TenantDefinitions } from './team/protocol.js';
import type { PersistRequest } from './persistence.js';
import type { RunnerRequest } from './runner.js';
import type {
  AgentConfig, DirectoryRequest, KeySource, RunEvent, SendReply, SessionArgs, SessionRequest, StoredMessage, TenantMcpServers, TenantProviders,
} from './protocol.js';
import type { TenantProvider } from './provider/tenant_layers.js';
import type { TenantMcpServer } from './tenant_mcp.js';

export interface BackendOptions {
  /** Every tenant's agents when there is no `loadAgents`; with one, only the default agent's check. */
  agents: AgentConfig[];
  /** Agent used when a request names none (default: the first; a tenant without it: its first). */
  defaultAgent?: string;
  /**
   * A tenant's agents and own providers, from the store (gateway: agents seeded once from the config file).
   * Read on a tenant's first run, kept, and replaced by `reloadAgents`. Absent: `agents` for every tenant.
   */
  loadAgents?: (tenant: string) => Promise<{ agents: AgentConfig[]; providers: TenantProvider[]; mcpServers?: TenantMcpServer[] }>;
  /** Where workers fetch a tenant provider's key when a call first needs it (the store worker). */
  providerKeys?: KeySource;
  /** Where workers fetch a tenant MCP server's sealed headers or env when they connect it (the store worker). */
  mcpSecrets?: KeySource;
  sessionIdleMs?: number;
  historyLimit?: number;
  /** Timeout of asks to session actors. */
  askTimeoutMs?: number;
  /** Most runs in flight across the process; more are refused with OVERLOADED. */
  maxRuns?: number;
  /** The store worker's actor (actors/store_host.ts): history, audit events, memory; absent: memory only. */
  persistRef?: ActorRef<PersistRequest>;
  /** More readiness (the store being open): /ready is 503 while this is false. */
  ready?: () => boolean;
  /** Idempotency keys shared across gateway processes (Redis); absent: per session, in memory. */
  idempotency?: IdempotencyClaims;
  /** Screens user input before a run starts; throws (e.g. FORBIDDEN) to refuse it. */
  screenInput?: (text: string, caller: Caller) => void;
  /** Allow `injectFault` (tests and benchmarks only; default false). */
  enableFaults?: boolean;
  /** Fixed facts /health adds (e.g. which embeddings and vector search memory uses). */
  healthInfo?: Record<string, unknown>;
  /** Teams: the coordinator's ref for agents' team tools, and its board and events. */
  teams?: TeamService;
}

/** What the backend needs of the team coordinator (actors/team/coordinator.ts). */
export interface TeamService {
  readonly ref: ActorRef<TeamRequest>;
  board(tenant: string, teamId: string, filter?: TaskFilter): Promise<Record<string, unknown>>;
  watch(tenant: string, filter: { teamId?: string; sessionKey?: string }, fn: (event: string, payload: Record<string, unknown>) => void): () => void;
}

/** How long injectFault waits for the killed worker's replacement. */
const FAULT_READY_TIMEOUT_MS = 15_000;

/** What chat.send needs from a shared idempotency store (store/redis IdempotencyStore fits). */
export interface IdempotencyClaims {
  claim(tenant: string, key: string, ttlMs: number): Promise<{ fresh: true } | { fresh: false; runId?: string }>;
  complete(tenant: string, key: string, runId: string): Promise<boolean>;
  release(tenant: string, key: string): Promise<void>;
}

const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

interface RunEntry {
  sink: EventSink;
  host: number;
  /** A stateless run's runner (no session): aborts go there. */
  runner?: ActorRef<RunnerRequest>;
  tenant: string;
  user: string;
  sessionKey: string;
}

const SESSION_MODULE = new URL('./session.js', import.meta.url).href;
const RUNNER_MODULE = new URL('./runner.js', import.meta.url).href;

/** Tenants whose agents are kept in memory; the oldest is read again when more are used. */
const MAX_TENANTS_KEPT = 10_000;

/** One tenant's agents, by id, and the one a run that names none gets. */
interface TenantAgents {
  list: AgentConfig[];
  providers: TenantProvider[];
  mcpServers: TenantMcpServer[];
  byId: Map<string, AgentConfig>;
  defaultAgent: string | undefined;
}

class BackendError extends Error {
  constructor(readonly code: string, message: string, readonly retryable = false, readonly reason?: string) {
    super(message);
  }
}

export class ActorBackend {
  private readonly sessions = new Map<string, ActorRef<SessionRequest>>();
  private readonly runs = new Map<string, RunEntry>();
  private readonly agents: Map<string, AgentConfig>;
  private readonly defaultAgent: string;
  private readonly loadAgents: BackendOptions['loadAgents'];
  /** Tenants' agents (with `loadAgents`), oldest first, and the reads in flight. */
  private readonly tenantAgents = new Map<string, TenantAgents>();
  private readonly agentLoads = new Map<string, Promise<TenantAgents>>();
  private readonly fixedAgents: TenantAgents;
  private readonly router: ActorRef<RunEvent>;
  private readonly directory: ActorRef<unknown>;
  /** One stateless runner per worker (runner.ts), taken in turn. */
  private readonly runners: ActorRef<RunnerRequest>[];
  private nextRunner = 0;
  private readonly providerKeys: KeySource | undefined;
  private readonly mcpSecrets: KeySource | undefined;
  private readonly options: Required<Omit<BackendOptions, 'agents' | 'defaultAgent' | 'loadAgents' | 'providerKeys' | 'mcpSecrets' | 'persistRef' | 'ready' | 'idempotency' | 'screenInput' | 'healthInfo' | 'teams'>>;
  private readonly teams: TeamService | undefined;
  private readonly screenInput: BackendOptions['screenInput'];
  private readonly healthInfo: Record<string, unknown>;
  private readonly idempotency: IdempotencyClaims | undefined;
  private readonly persistRef: ActorRef<PersistRequest> | undefined;
  private readonly extraReady: (() => boolean) | undefined;
  private readonly startedAt = Date.now();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly system: ActorSystem,
    options: BackendOptions,
  ) {
    if (options.agents.length === 0) throw new RangeError('at least one agent must be configured');
    this.agents = new Map(options.agents.map((a) => [a.id, a]));
    this.defaultAgent = options.defaultAgent ?? options.agents[0].id;
    if (!this.agents.has(this.defaultAgent)) throw new RangeError(`default agent ${this.defaultAgent} is not configured`);
    this.loadAgents = options.loadAgents;
    this.providerKeys = options.providerKeys;
    this.mcpSecrets = options.mcpSecrets;
    this.fixedAgents = this.indexAgents(options.agents, []);
    this.options = {
      sessionIdleMs: options.sessionIdleMs ?? 5 * 60_000,
      historyLimit: options.historyLimit ?? 50,
      askTimeoutMs: options.askTimeoutMs ?? 10_000,
      maxRuns: options.maxRuns ?? 100_000,
      enableFaults: options.enableFaults ?? false,
    };
    this.router = system.spawn<RunEvent>(() => ({ receive: (ev) => this.dispatch(ev) }), {
      mailbox: { capacity: 1_000_000 },
    });
    this.directory = system.spawn<unknown>(() => this.directoryBehavior(), { mailbox: { capacity: 1_000_000 } });
    this.idempotency = options.idempotency;
    this.screenInput = options.screenInput;
    this.healthInfo = options.healthInfo ?? {};
    this.teams = options.teams;
    const runnerArgs = { router: this.router, directory: this.directory as ActorRef<DirectoryRequest>, ...(options.teams === undefined ? {} : { team: options.teams.ref }) };
    const workers = system.workers?.hosts ?? [];
    this.runners = (workers.length === 0 ? [undefined] : workers).map((worker) => system.spawn<RunnerRequest>(
      { module: RUNNER_MODULE, export: 'statelessRunner', args: runnerArgs },
      { ...(worker === undefined ? {} : { placement: { worker } }), restart: 'permanent', mailbox: { capacity: 100_000 } },
    ));
    this.persistRef = options.persistRef;
    this.extraReady = options.ready;
    this.unsubscribe = system.workers?.onEvent((e) => {
      if (e.type === 'worker-exit') this.failRunsOn(e.host);
    });
  }

  // ---------------------------------------------------------------- GatewayBackend

  async ping(p: Caller, sessionKey?: string): Promise<{ pong: true; at: number }> {
    return (await this.callSession(p, this.keyOf(p, sessionKey), { t: 'ping' })) as { pong: true; at: number };
  }

  /** Starts a run (front doors reach it through transports' startRun, which applies the same rules first). */
  async chatSend(p: Caller, params: ChatSendParams, sink: EventSink): Promise<RunAccepted> {
    // The turn's trace (the front door's span, current on entry) goes with the session's message by hand:
    // the context follows only synchronous calls (observability/context_managers.ts).
    const trace = currentContext();
    const agents = await this.agentsOf(p.tenant);
    const agent = params.agent ?? agents.defaultAgent;
    if (agent === undefined) throw new BackendError('NOT_FOUND', 'this tenant has no agents', false, 'unknown_agent');
    if (!agents.byId.has(agent)) throw new BackendError('NOT_FOUND', `no agent named "${agent}"`, false, 'unknown_agent');
    if (this.runs.size >= this.options.maxRuns) throw new BackendError('OVERLOADED', 'too many runs in flight', true, 'runs_full');
    checkRunParams(params);
    const stateless = isStateless(params);
    this.screenInput?.(params.message, p);
    // The client's whole conversation is input too (its system messages and tool results included).
    for (const m of params.conversation ?? []) {
      if (m.content !== params.message) this.screenInput?.(m.content, p);
    }
    // A stateless request runs on a worker's stateless runner, under a key of its own (never a session's).
    const sessionKey = stateless ? `~${randomUUID()}` : this.keyOf(p, params.sessionKey);
    const idemKey = params.idempotencyKey === undefined ? undefined : `${sessionKey}\u0000${params.idempotencyKey}`;
    if (idemKey !== undefined && this.idempotency !== undefined) {
      const claim = await this.idempotency.claim(p.tenant, idemKey, IDEMPOTENCY_TTL_MS);
      if (!claim.fresh) {
        if (claim.runId !== undefined) return { runId: claim.runId, sessionKey };
        throw new BackendError('OVERLOADED', 'a request with this idempotency key is still being accepted; retry', true, 'idempotency_in_progress');
      }
    }
    const runId = randomUUID();
    // Register the sink before the session can emit anything for this run.
    const entry: RunEntry = {
      sink, host: -1, tenant: p.tenant, user: p.user, sessionKey,
    };
    this.runs.set(runId, entry);
    try {
      if (stateless) {
        await withContext(trace, () => this.runStateless(entry, {
          t: 'run', runId, agent: agents.byId.get(agent) as AgentConfig, message: params.message, tenant: p.tenant, sessionKey,
          ...this.ownedBy(agents),
          ...(params.conversation === undefined ? {} : { conversation: params.conversation }),
          ...(params.tools === undefined ? {} : { clientTools: params.tools }),
          ...(params.progress === undefined || params.progress === 'all' ? {} : { progress: params.progress }),
        }));
        if (idemKey !== undefined) await this.idempotency?.complete(p.tenant, idemKey, runId);
        return { runId, sessionKey };
      }
      const { reply, host } = await withContext(trace, () => this.callSessionWithHost(p, sessionKey, agents, {
        t: 'send', runId, agent, message: params.message, idempotencyKey: params.idempotencyKey,
        ...(params.conversation === undefined ? {} : { conversation: params.conversation }),
        ...(params.tools === undefined ? {} : { clientTools: params.tools }),
        ...(params.progress === undefined || params.progress === 'all' ? {} : { progress: params.progress }),
      }));
      const sent = reply as SendReply;
      if (sent.duplicate) {
        this.runs.delete(runId);
        return { runId: sent.runId, sessionKey };
      }
      entry.host = host;
      if (idemKey !== undefined) await this.idempotency?.complete(p.tenant, idemKey, runId);
      return { runId, sessionKey };
    } catch (err) {
      this.runs.delete(runId);
      if (idemKey !== undefined) await this.idempotency?.release(p.tenant, idemKey).catch(() => undefined);
      throw err;
    }
  }

  async chatAbort(p: Caller, params: RunTarget): Promise<{ aborted: boolean }> {
    let sessionKey = params.sessionKey;
    if (params.runId !== undefined) {
      const run = this.runs.get(params.runId);
      if (run === undefined || run.tenant !== p.tenant) return { aborted: false };
      if (run.runner !== undefined) return this.abortStateless(params.runId, run.runner);
      sessionKey = run.sessionKey;
    } else if (sessionKey !== undefined && sessionKey.startsWith('~')) {
      for (const [runId, run] of this.runs) {
        if (run.tenant === p.tenant && run.sessionKey === sessionKey && run.runner !== undefined) return this.abortStateless(runId, run.runner);
      }
      return { aborted: false };
    }
    if (sessionKey === undefined) throw new BackendError('INVALID_REQUEST', 'give a runId or a sessionKey', false, 'missing_field');
    const key = this.keyOf(p, sessionKey);
    const k = this.mapKey(p.tenant, key);
    const ref = this.sessions.get(k);
    if (ref === undefined) return { aborted: false };
    // Never through callSession: a session that stopped in the meantime (a stateless
    // one right after its run) has nothing to abort, and must not be spawned again.
    try {
      return (await ref.ask({ t: 'abort', runId: params.runId }, { timeoutMs: this.options.askTimeoutMs })) as { aborted: boolean };
    } catch (err) {
      if ((err as RuntimeError).code !== 'NOT_FOUND') throw err;
      this.forget(k, ref);
      return { aborted: false };
    }
  }

  async chatHistory(p: Caller, params: { sessionKey: string; limit?: number }): Promise<{ messages: StoredMessage[] }> {
    const limit = Math.min(Math.max(params.limit ?? 50, 0), this.options.historyLimit);
    return (await this.callSession(p, this.keyOf(p, params.sessionKey), { t: 'history', limit })) as { messages: StoredMessage[] };
  }

  async sessionsList(p: Caller): Promise<{ sessions: { sessionKey: string; worker: number }[] }> {
    const prefix = `${p.tenant}\u0000`;
    const sessions: { sessionKey: string; worker: number }[] = [];
    for (const [k, ref] of this.sessions) {
      // `~…` keys name stateless runs, never a conversation; leave any such key out.
      if (k.startsWith(prefix) && k[prefix.length] !== '~') sessions.push({ sessionKey: k.slice(prefix.length), worker: ref.host });
    }
    return { sessions };
  }

  async agentsList(p: Caller): Promise<{ agents: { id: string; description?: string }[] }> {
    return { agents: (await this.agentsOf(p.tenant)).list.map((a) => ({ id: a.id, ...(a.description ? { description: a.description } : {}) })) };
  }

  /**
   * Reads the tenant's agents again and pushes them to its live sessions: their
   * next runs use the new definitions, runs already started finish on the old
   * ones. A tenant not in memory is only forgotten (read on its next run).
   */
  async reloadAgents(tenant: string): Promise<void> {
    if (this.loadAgents === undefined) return;
    this.agentLoads.delete(tenant);
    if (!this.tenantAgents.has(tenant) && !this.hasSessions(tenant)) return;
    this.tenantAgents.delete(tenant);
    await this.agentsOf(tenant);
  }

  /** The tenant's agents, own providers and MCP servers as its runs see them: team members and reviewers run on these too. */
  async definitions(tenant: string): Promise<TenantDefinitions> {
    const a = await this.agentsOf(tenant);
    return { agents: a.byId, ...this.ownedBy(a) };
  }

  /** Reloads every tenant in memory (after missed change notices, e.g. Redis came back). */
  async reloadAllAgents(): Promise<void> {
    for (const tenant of [...this.tenantAgents.keys()]) await this.reloadAgents(tenant);
  }

  async health(): Promise<Record<string, unknown>> {
    const snap = this.system.metricsSnapshot();
    return {
      uptimeSec: Math.round((Date.now() - this.startedAt) / 1000),
      workers: this.system.workers?.size ?? 0,
      workersHealthy: this.system.workers?.healthy ?? true,
      workerReplacements: snap.workerReplacements,
      sessions: this.sessions.size,
      runsInFlight: this.runs.size,
      ...this.healthInfo,
    };
  }

  /**
   * Fault injection for `--fault worker-kill`: kills one actor worker (the
   * given one, else the one running the most runs) and answers once its
   * replacement is ready, with how long that took (null past the timeout).
   */
  async injectFault(_p: Caller, params: { kind: string; worker?: number }): Promise<{ kind: 'worker-kill'; host: number; replacementMs: number | null }> {
    if (!this.options.enableFaults) throw new BackendError('FORBIDDEN', 'fault injection is disabled (start the gateway with TROUPE_ENABLE_FAULTS=1)', false, 'faults_disabled');
    if (params.kind !== 'worker-kill') throw new BackendError('INVALID_REQUEST', `unknown fault "${params.kind}" (known: worker-kill)`, false, 'field_range');
    const pool = this.system.workers;
    if (pool === undefined || pool === null) throw new BackendError('NOT_FOUND', 'this gateway runs no actor workers', false, 'no_workers');
    let host = params.worker;
    if (host === undefined) {
      const load = new Map<number, number>();
      for (const r of this.runs.values()) if (r.host >= 0) load.set(r.host, (load.get(r.host) ?? 0) + 1);
      host = [...load].sort((a, b) => b[1] - a[1])[0]?.[0] ?? pool.hosts[0];
    }
    const target = host;
    let off: () => void = () => undefined;
    const ready = new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), FAULT_READY_TIMEOUT_MS);
      off = pool.onEvent((e) => {
        if (e.type === 'worker-ready' && e.host === target) {
          clearTimeout(timer);
          resolve(e.replacementMs ?? null);
        }
      });
    });
    try {
      if (!pool.killWorker(target)) throw new BackendError('NOT_FOUND', `no running worker ${target}`, false, 'no_worker');
      return { kind: 'worker-kill', host: target, replacementMs: await ready };
    } finally {
      off();
    }
  }

  /** One team's task board (`team.board`, GET /v1/teams/:team/board). */
  async teamBoard(p: Caller, params: { team: string; runId?: string; status?: string }): Promise<Record<string, unknown>> {
    if (this.teams === undefined) throw new BackendError('NOT_FOUND', 'this gateway runs no teams (they need a store)', false, 'no_teams');
    return this.teams.board(p.tenant, params.team, {
      ...(params.runId === undefined ? {} : { runId: params.runId }),
      ...(params.status === undefined ? {} : { status: [params.status as TeamTaskStatus] }),
    });
  }

  /** Subscribes a client to `team.*` events of its tenant (`team.watch`); returns the unsubscribe. */
  teamWatch(p: Caller, params: { team?: string; sessionKey?: string }, sink: (event: string, payload: Record<string, unknown>) => void): () => void {
    if (this.teams === undefined) throw new BackendError('NOT_FOUND', 'this gateway runs no teams (they need a store)', false, 'no_teams');
    return this.teams.watch(p.tenant, { ...(params.team === undefined ? {} : { teamId: params.team }), ...(params.sessionKey === undefined ? {} : { sessionKey: params.sessionKey }) }, sink);
  }

  ready(): boolean {
    return !this.system.isShuttingDown && (this.system.workers?.healthy ?? true) && (this.extraReady?.() ?? true);
  }

  /** The persistence actor, when there is a store (tool hosts use it for memory). */
  get persistenceRef(): ActorRef<PersistRequest> | undefined {
    return this.persistRef;
  }

  /** Runs in flight (for shutdown and tests). */
  get activeRuns(): number {
    return this.runs.size;
  }

  close(): void {
    this.unsubscribe?.();
  }

  // ---------------------------------------------------------------- internals

  private indexAgents(list: AgentConfig[], providers: TenantProvider[], mcpServers: TenantMcpServer[] = []): TenantAgents {
    const byId = new Map(list.map((a) => [a.id, a]));
    return { list, providers, mcpServers, byId, defaultAgent: byId.has(this.defaultAgent) ? this.defaultAgent : list[0]?.id };
  }

  /** The tenant's agents: kept ones at once, else read (one read per tenant at a time) and pushed to its live sessions. */
  private agentsOf(tenant: string): TenantAgents | Promise<TenantAgents> {
    const load = this.loadAgents;
    if (load === undefined) return this.fixedAgents;
    const kept = this.tenantAgents.get(tenant);
    if (kept !== undefined) return kept;
    let pending = this.agentLoads.get(tenant);
    if (pending === undefined) {
      const loading: Promise<TenantAgents> = load(tenant).then((loaded) => {
        const agents = this.indexAgents(loaded.agents, loaded.providers, loaded.mcpServers);
        // A newer read (reloadAgents) replaced this one: its answer wins.
        if (this.agentLoads.get(tenant) !== loading) return agents;
        this.agentLoads.delete(tenant);
        if (this.tenantAgents.size >= MAX_TENANTS_KEPT) this.tenantAgents.delete(this.tenantAgents.keys().next().value as string);
        this.tenantAgents.set(tenant, agents);
        this.pushAgents(tenant, agents);
        return agents;
      }, (err: unknown) => {
        if (this.agentLoads.get(tenant) === loading) this.agentLoads.delete(tenant);
        throw err;
      });
      pending = loading;
      this.agentLoads.set(tenant, pending);
    }
    return pending;
  }

  private hasSessions(tenant: string): boolean {
    const prefix = `${tenant}\u0000`;
    for (const k of this.sessions.keys()) if (k.startsWith(prefix)) return true;
    return false;
  }

  /** The tenant's own providers and MCP servers as a run gets them, with where their secrets are fetched from. */
  private ownedBy(agents: TenantAgents): { providers: TenantProviders; mcpServers: TenantMcpServers } {
    return {
      providers: { list: agents.providers, ...(this.providerKeys === undefined ? {} : { keys: this.providerKeys }) },
      mcpServers: { list: agents.mcpServers, ...(this.mcpSecrets === undefined ? {} : { secrets: this.mcpSecrets }) },
    };
  }

  /** Tells the tenant's live sessions its agents (each retires the agents that changed once their runs are done). */
  private pushAgents(tenant: string, agents: TenantAgents): void {
    const prefix = `${tenant}\u0000`;
    for (const [k, ref] of this.sessions) if (k.startsWith(prefix)) ref.tell({ t: 'agents', agents: agents.list, providers: agents.providers, mcpServers: agents.mcpServers });
  }

  /** Starts a stateless run on the next worker's runner; its events come through the router as any run's. */
  private async runStateless(entry: RunEntry, msg: Extract<RunnerRequest, { t: 'run' }>): Promise<void> {
    const runner = this.runners[this.nextRunner];
    this.nextRunner = (this.nextRunner + 1) % this.runners.length;
    entry.runner = runner;
    await runner.ask(msg, { timeoutMs: this.options.askTimeoutMs });
    // From here a worker's death fails the run (failRunsOn), as for a session's.
    entry.host = runner.host;
  }

  private async abortStateless(runId: string, runner: ActorRef<RunnerRequest>): Promise<{ aborted: boolean }> {
    try {
      return (await runner.ask({ t: 'abort', runId }, { timeoutMs: this.options.askTimeoutMs })) as { aborted: boolean };
    } catch (err) {
      if ((err as RuntimeError).code !== 'NOT_FOUND') throw err;
      return { aborted: false };
    }
  }

  private keyOf(p: Caller, sessionKey: string | undefined): string {
    const key = sessionKey ?? `${p.user}:main`;
    checkSessionKey(key);
    return key;
  }

  private mapKey(tenant: string, sessionKey: string): string {
    return `${tenant}\u0000${sessionKey}`;
  }

  private sessionRef(p: Caller, sessionKey: string, agents: TenantAgents): ActorRef<SessionRequest> {
    const k = this.mapKey(p.tenant, sessionKey);
    let ref = this.sessions.get(k);
    if (ref === undefined) {
      const args: SessionArgs = {
        tenant: p.tenant,
        sessionKey,
        router: this.router,
        // The newest list kept: a reload between this run's read and here was pushed only to live sessions.
        agents: (this.tenantAgents.get(p.tenant) ?? agents).list,
        ...this.ownedBy(this.tenantAgents.get(p.tenant) ?? agents),
        idleMs: this.options.sessionIdleMs,
        historyLimit: this.options.historyLimit,
        defaultAgent: agents.defaultAgent ?? this.defaultAgent,
        directory: this.directory as ActorRef<DirectoryRequest>,
        ...(this.teams === undefined ? {} : { team: this.teams.ref }),
        ...(this.persistRef === undefined ? {} : { persistence: this.persistRef }),
      };
      ref = this.system.spawn<SessionRequest>({ module: SESSION_MODULE, export: 'session', args }, {
        placement: { key: k },
        restart: 'transient',
        mailbox: { capacity: 10_000 },
      });
      this.sessions.set(k, ref);
      this.directory.tell({ watch: ref, key: k });
    }
    return ref;
  }

  private async callSession(p: Caller, sessionKey: string, msg: SessionRequest): Promise<unknown> {
    return (await this.callSessionWithHost(p, sessionKey, await this.agentsOf(p.tenant), msg)).reply;
  }

  /** Asks the session; if it had just passivated, spawns it again and asks once more. */
  private async callSessionWithHost(p: Caller, sessionKey: string, agents: TenantAgents, msg: SessionRequest): Promise<{ reply: unknown; host: number }> {
    for (let attempt = 0; ; attempt++) {
      const ref = this.sessionRef(p, sessionKey, agents);
      try {
        const reply = await ref.ask(msg, { timeoutMs: this.options.askTimeoutMs });
        return { reply, host: ref.host };
      } catch (err) {
        if ((err as RuntimeError).code === 'NOT_FOUND' && attempt === 0) {
          this.forget(this.mapKey(p.tenant, sessionKey), ref);
          continue;
        }
        throw err;
      }
    }
  }

  private forget(k: string, ref: ActorRef): void {
    if (this.sessions.get(k)?.equals(ref)) this.sessions.delete(k);
  }

  /** Watches sessions so a passivated one leaves the directory. */
  private directoryBehavior(): Behavior<unknown> {
    const keys = new Map<number, string>();
    return {
      receive: (msg, ctx) => {
        if (isTerminated(msg)) {
          const k = keys.get(msg.ref.id);
          keys.delete(msg.ref.id);
          if (k !== undefined) this.forget(k, msg.ref);
          return;
        }
        if ((msg as DirectoryRequest).t === 'list') {
          const { tenant } = msg as DirectoryRequest;
          return this.sessionsList({ tenant, user: '', scopes: [] }).then((r) => r.sessions);
        }
        const { watch, key } = msg as { watch: ActorRef; key: string };
        keys.set(watch.id, key);
        ctx.watch(watch);
      },
    };
  }

  private dispatch([runId, event, payload]: RunEvent): void {
    const run = this.runs.get(runId);
    if (run === undefined) return;
    // The turn's record is its usage row (the front door's usage recorder), not an audit row.
    if (event === 'chat.final' || event === 'chat.error') this.runs.delete(runId);
    try {
      run.sink(event, payload as never);
    } catch {
      // a sink never throws by contract; a broken one must not stop the router
    }
  }

  /** A worker died: its runs will never finish; tell their clients now. */
  private failRunsOn(host: number): void {
    for (const [runId, run] of this.runs) {
      if (run.host !== host) continue;
      this.runs.delete(runId);
      run.sink('chat.error', {
        runId,
        error: { code: 'UNAVAILABLE', message: 'the worker running this session restarted; send again', retryable: true },
      } as never);
    }
  }
}
