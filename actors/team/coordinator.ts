/**
 * The team coordinator: the lead's side of every team run, on the main thread
 * (which outlives any worker). The board in the store is the truth; this actor
 * only moves it on:
 *
 *   tick ─► renew leases of attempts that beat ─► reclaim expired leases
 *        ─► per live run: cancel what can never run, check budget and deadline
 *        ─► per team: claim for each idle member / reviewer ─► spawn a teamWorker
 *        ─► deliver finished outcomes to the lead (one message, one lead turn)
 *        ─► end the run when nothing is left to do or deliver
 *
 * Tool calls from agents on workers arrive as messages; so do heartbeats and
 * attempt outcomes. A result is "done" exactly once because every write names
 * the claim token; it reaches the lead because delivery is a column on the
 * task, cleared only after the lead's session accepted the message.
 */
import type { ActorRef, ActorSystem, Replier } from '../../runtime/index.js';
import { validate, type JsonSchema } from '../../tools/schema.js';
import type { Lease, TaskFilter, TeamRun, TeamTask, TeamTaskStatus, TenantScope } from '../../store/index.js';
import type { RunEnd } from '../chat_contract.js';
import type { PersistRequest } from '../persistence.js';
import type { AgentConfig } from '../protocol.js';
import {
  TEAM_DEFAULTS, type AttemptOutcome, type TeamCaller, type TeamConfig, type TeamJob, type TeamLimits, type TeamReply, type TeamRequest,
  type TeamRunContext, type TenantDefinitions,
} from './protocol.js';

/** How the coordinator reaches a lead: a chat turn in the lead's session (the backend's chatSend). */
export interface LeadPort {
  /**
   * Resolves once the session accepted the message; `ended` is called when the lead's turn ends.
   * `key` is an idempotency key: a retry of a delivery whose answer was lost is not a second message.
   */
  send(tenant: string, sessionKey: string, agent: string, message: string, ended: () => void, key: string): Promise<{ runId: string }>;
  abort(tenant: string, sessionKey: string, runId: string): Promise<void>;
}

/**
 * What the coordinator needs of the store. In the gateway it is the store worker's client
 * (gateway/store_client.ts): each repository call in `withTenant` is one ask to the store
 * worker, in a transaction of its own; every write names its claim token, so none relies
 * on sharing a transaction with another.
 */
export interface TeamBoardStore {
  teamTenants(): Promise<string[]>;
  withTenant<T>(tenant: string, fn: (scope: TenantScope) => Promise<T>): Promise<T>;
}

export type TeamListener = (event: string, payload: Record<string, unknown>) => void;

export interface CoordinatorOptions {
  system: ActorSystem;
  store: TeamBoardStore;
  teams: TeamConfig[];
  /** The config file's agents: who may delegate to whom (`allowAgents`), and every tenant's definitions without `definitions`. */
  agents: AgentConfig[];
  /**
   * A tenant's definitions, read when a task is created and for each attempt: members, reviewers and
   * delegates run on what the tenant's chat runs would (gateway: the store). A team naming an agent
   * the tenant lacks gets an error at task creation; such a member claims nothing.
   */
  definitions?: (tenant: string) => Promise<TenantDefinitions>;
  lead: LeadPort;
  audit?: ActorRef<PersistRequest>;
  /** Creates the tenant's row on first use (Persistence.ensureTenant); absent: tenants exist already. */
  ensureTenant?: (tenant: string) => Promise<void>;
  /** Board sweep period (default 200 ms). */
  tickMs?: number;
  /** Told what each member's or reviewer's attempt used (usage recording). */
  onRunEnd?: (end: RunEnd) => void;
  log?: (msg: string, err: unknown) => void;
}

interface LiveRun {
  tenant: string;
  run: TeamRun;
  team: TeamConfig;
  limits: TeamLimits;
  /** A lead turn with delivered outcomes is in progress. */
  delivering?: LeadTurn;
  nextDeliveryAt: number;
  ended: boolean;
}

interface LeadTurn {
  runId: string;
  done: boolean;
  timer?: NodeJS.Timeout;
}

interface Attempt {
  job: TeamJob;
  ref: ActorRef<'abort'>;
  lastBeat: number;
  /** Tasks claimed with team_task_claim during this attempt. */
  extra: Lease[];
  /** performance.now() when it was spawned. */
  startedAt: number;
}

const WORKER_MODULE = new URL('./worker.js', import.meta.url).href;
const COORDINATOR = 'team:coordinator';
/** Characters of one result carried in the lead's message (the board keeps all of it). */
const RESULT_IN_MESSAGE = 4_000;
const MAX_LISTENERS = 10_000;

export class TeamCoordinator {
  readonly ref: ActorRef<TeamRequest>;
  private readonly teams = new Map<string, TeamConfig>();
  private readonly agents: Map<string, AgentConfig>;
  private readonly live = new Map<string, LiveRun>();
  private readonly attempts = new Map<string, Attempt>();
  private readonly busy = new Map<string, number>();
  private readonly waiters = new Map<string, Replier>();
  private readonly listeners = new Set<{ tenant: string; teamId?: string; sessionKey?: string; fn: TeamListener }>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private closed = false;
  private readonly unsubscribe: (() => void) | undefined;
  private readonly log: (msg: string, err: unknown) => void;

  constructor(private readonly opts: CoordinatorOptions) {
    for (const t of opts.teams) this.teams.set(t.id, t);
    this.agents = new Map(opts.agents.map((a) => [a.id, a]));
    this.log = opts.log ?? (() => undefined);
    this.ref = opts.system.spawn<TeamRequest>(() => ({ receive: (msg, ctx) => this.handle(msg, ctx.deferReply.bind(ctx)) }), {
      mailbox: { capacity: 1_000_000 },
    });
    // Attempts on a dead worker will never report: free their member's slot (the lease expires on its own).
    this.unsubscribe = opts.system.workers?.onEvent((e) => {
      if (e.type !== 'worker-exit') return;
      for (const [token, a] of this.attempts) if (a.ref.host === e.host) this.dropAttempt(token);
    });
  }

  /** Resumes the runs left running (a restart), then starts sweeping. */
  async start(): Promise<void> {
    for (const tenant of await this.opts.store.teamTenants()) {
      const runs = await this.opts.store.withTenant(tenant, (s) => s.teamRuns.listRunning());
      for (const run of runs) this.track(tenant, run);
    }
    this.kick();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.unsubscribe?.();
    await this.ticking;
    for (const r of this.live.values()) clearTimeout(r.delivering?.timer);
    for (const w of this.waiters.values()) w.resolve({ content: 'error: the gateway is shutting down', isError: true } satisfies TeamReply);
    this.waiters.clear();
  }

  /** Subscribes to `team.task.*` and `team.run.*` events of a tenant (optionally one team, one lead session). */
  watch(tenant: string, filter: { teamId?: string; sessionKey?: string }, fn: TeamListener): () => void {
    if (this.listeners.size >= MAX_LISTENERS) throw Object.assign(new Error('too many team watchers'), { code: 'OVERLOADED' });
    const entry = { tenant, ...filter, fn };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  /** The board of one team: its live runs and tasks. */
  async board(tenant: string, teamId: string, filter: TaskFilter = {}): Promise<Record<string, unknown>> {
    const team = this.teamConfig(teamId);
    if (team === undefined) throw Object.assign(new Error(`no team named "${teamId}"`), { code: 'NOT_FOUND' });
    return this.opts.store.withTenant(tenant, async (s) => {
      const tasks = await s.teamTasks.list(teamId, { limit: 1000, ...filter });
      const runIds = [...new Set(tasks.map((t) => t.runId))];
      const runs = (await Promise.all(runIds.map((id) => s.teamRuns.get(id)))).filter((r): r is TeamRun => r !== null);
      return { team: { id: team.id, lead: team.lead, members: team.members, reviewers: team.reviewers ?? [] }, runs: runs.map(runView), tasks: tasks.map(taskView) };
    });
  }

  /** Live runs (tests and health). */
  get liveRuns(): number {
    return this.live.size;
  }

  // ---------------------------------------------------------------- messages

  private async handle(msg: TeamRequest, deferReply: () => Replier | undefined): Promise<TeamReply | undefined> {
    try {
      switch (msg.t) {
        case 'heartbeat': {
          const a = this.attempts.get(msg.attempt);
          if (a !== undefined) a.lastBeat = Date.now();
          return undefined;
        }
        case 'attempt-done':
          await this.attemptDone(msg.job, msg.outcome);
          return undefined;
        case 'create': return await this.create(msg.caller, msg.args);
        case 'list': return await this.list(msg.caller, msg.args);
        case 'cancel': return await this.cancel(msg.caller, msg.args);
        case 'claim': return await this.claimMore(msg.caller, msg.ctx, msg.args);
        case 'complete': return await this.complete(msg.caller, msg.ctx, msg.args);
        case 'fail': return await this.failTask(msg.caller, msg.ctx, msg.args);
        case 'review': return await this.reviewTask(msg.caller, msg.ctx, msg.args);
        case 'delegate': return await this.delegate(msg.caller, msg.args, deferReply);
        default: return undefined;
      }
    } catch (err) {
      const e = err as { code?: string; message?: string };
      return { content: `error${e.code ? ` ${e.code}` : ''}: ${e.message ?? String(err)}`, isError: true };
    }
  }

  private teamConfig(teamId: string): TeamConfig | undefined {
    const team = this.teams.get(teamId);
    if (team !== undefined) return team;
    // `@agent`: the implicit team of an agent's delegations, its allowed agents as members.
    if (teamId.startsWith('@')) {
      const owner = this.agents.get(teamId.slice(1));
      if (owner !== undefined) return { id: teamId, lead: owner.id, members: owner.allowAgents ?? [], limits: { maxDepth: TEAM_DEFAULTS.maxDepth } };
    }
    return undefined;
  }

  private ledTeam(caller: TeamCaller, args: Record<string, unknown>): TeamConfig {
    const led = [...this.teams.values()].filter((t) => t.lead === caller.agent);
    const wanted = typeof args.team === 'string' ? args.team : undefined;
    const team = wanted === undefined ? (led.length === 1 ? led[0] : undefined) : led.find((t) => t.id === wanted);
    if (team === undefined) {
      throw Object.assign(new Error(wanted === undefined ? `say which team (you lead ${led.map((t) => t.id).join(', ') || 'none'})` : `you do not lead team "${wanted}"`), { code: 'FORBIDDEN' });
    }
    return team;
  }

  /**
   * The caller's live run of this team, started on first use. The caller tracks it
   * once its transaction committed: a task the store refuses (max tasks, depth)
   * rolls a new run back, and a tracked run with no row would be swept forever.
   */
  private async runFor(s: TenantScope, team: TeamConfig, caller: TeamCaller): Promise<TeamRun> {
    const existing = await s.teamRuns.live(team.id, caller.sessionKey);
    if (existing !== null) return existing;
    const limits = { ...TEAM_DEFAULTS, ...team.limits };
    return s.teamRuns.create({
      teamId: team.id, leadAgent: caller.agent, leadSession: caller.sessionKey,
      maxTasks: limits.maxTasks, maxDepth: limits.maxDepth, tokenBudget: limits.tokenBudget, maxDurationMs: limits.maxDurationMs,
    }, `agent:${caller.agent}`);
  }

  private track(tenant: string, run: TeamRun): LiveRun | undefined {
    const key = `${tenant}\u0000${run.id}`;
    let live = this.live.get(key);
    if (live === undefined) {
      const team = this.teamConfig(run.teamId);
      if (team === undefined) return undefined;
      live = { tenant, run, team, limits: { ...TEAM_DEFAULTS, ...team.limits }, nextDeliveryAt: 0, ended: false };
      this.live.set(key, live);
    }
    return live;
  }

  private definitionsOf(tenant: string): Promise<TenantDefinitions> {
    return this.opts.definitions?.(tenant) ?? Promise.resolve({ agents: this.agents });
  }

  private async create(caller: TeamCaller, args: Record<string, unknown>): Promise<TeamReply> {
    const team = this.ledTeam(caller, args);
    const assignee = typeof args.assignee === 'string' && args.assignee !== '' ? args.assignee : undefined;
    if (assignee !== undefined && !team.members.includes(assignee)) {
      return { content: `error: "${assignee}" is not a member of team ${team.id} (members: ${team.members.join(', ')})`, isError: true };
    }
    const schema = isObject(args.resultSchema) ? args.resultSchema : undefined;
    const review = typeof args.review === 'string' ? args.review : schema !== undefined ? 'schema' : 'none';
    if (review === 'agent' && (team.reviewers ?? []).length === 0) return { content: `error: team ${team.id} has no reviewers`, isError: true };
    // The team names agents; the tenant defines them (the store): a name it lacks can take no task.
    const defined = (await this.definitionsOf(caller.tenant)).agents;
    const lacking = (role: string, names: string[]): TeamReply => ({
      content: `error: ${names.map((n) => `"${n}"`).join(', ')} (${role} of team ${team.id}) ${names.length === 1 ? 'is not an agent' : 'are not agents'} of tenant ${caller.tenant}: define ${names.length === 1 ? 'it' : 'them'} (PUT /admin/v1/agents/:id) or take ${names.length === 1 ? 'it' : 'them'} out of the team`,
      isError: true,
    });
    const workers = assignee === undefined ? team.members : [assignee];
    if (!workers.some((m) => defined.has(m))) return lacking(assignee === undefined ? 'the members' : 'a member', workers);
    if (review === 'agent' && !(team.reviewers ?? []).some((r) => defined.has(r))) return lacking('the reviewers', team.reviewers ?? []);
    // Outside the transaction: on PGlite the owner's query would queue behind it.
    await this.opts.ensureTenant?.(caller.tenant);
    const { run, task } = await this.opts.store.withTenant(caller.tenant, async (s) => {
      const run = await this.runFor(s, team, caller);
      // `#n` names the run's n-th task, so a plan can say what depends on what before it knows ids.
      let blockedBy = Array.isArray(args.blockedBy) ? args.blockedBy.map(String) : [];
      if (blockedBy.some((b) => b.startsWith('#'))) {
        const bySeq = new Map((await s.teamTasks.list(team.id, { runId: run.id, limit: 1000 })).map((t) => [`#${t.seq}`, t.id]));
        blockedBy = blockedBy.map((b) => bySeq.get(b) ?? b);
      }
      const task = await s.teamTasks.create({
        runId: run.id, teamId: team.id, title: String(args.title ?? ''), input: String(args.input ?? ''),
        ...(assignee === undefined ? {} : { assignee }),
        blockedBy,
        review: review as 'none' | 'agent' | 'schema', ...(schema === undefined ? {} : { resultSchema: schema }),
        maxAttempts: ({ ...TEAM_DEFAULTS, ...team.limits }).maxAttempts,
        depth: caller.chain.length + 1, chain: [...caller.chain, caller.agent],
      }, `agent:${caller.agent}`);
      return { run, task };
    });
    this.track(caller.tenant, run);
    this.emitTask(caller.tenant, task);
    this.kick();
    return { content: JSON.stringify({ taskId: task.id, runId: task.runId, seq: task.seq, status: task.status }) };
  }

  private async list(caller: TeamCaller, args: Record<string, unknown>): Promise<TeamReply> {
    const team = this.ledTeam(caller, args);
    const tasks = await this.opts.store.withTenant(caller.tenant, (s) => s.teamTasks.list(team.id, {
      ...(typeof args.status === 'string' ? { status: [args.status as TeamTaskStatus] } : {}),
      ...(typeof args.assignee === 'string' ? { assignee: args.assignee } : {}),
      ...(typeof args.runId === 'string' ? { runId: args.runId } : {}),
      limit: 200,
    }));
    return { content: JSON.stringify(tasks.map((t) => ({ ...taskView(t), result: t.result?.slice(0, 500) ?? null }))) };
  }

  private async cancel(caller: TeamCaller, args: Record<string, unknown>): Promise<TeamReply> {
    const team = this.ledTeam(caller, args);
    const task = await this.opts.store.withTenant(caller.tenant, (s) => s.teamTasks.cancel(team.id, String(args.taskId ?? ''), `agent:${caller.agent}`));
    if (task === null) return { content: `error: no unfinished task ${String(args.taskId)} on team ${team.id}'s board`, isError: true };
    this.emitTask(caller.tenant, task);
    for (const [token, a] of this.attempts) if (a.job.taskId === task.id) this.abortAttempt(token);
    this.kick();
    return { content: `cancelled task ${task.id}` };
  }

  private leaseOf(ctx: TeamRunContext, args: Record<string, unknown>): Lease | undefined {
    const id = typeof args.taskId === 'string' && args.taskId !== '' ? args.taskId : ctx.taskId;
    if (id === ctx.taskId) return ctx.lease;
    return this.attempts.get(ctx.attempt)?.extra.find((l) => l.id === id);
  }

  private async claimMore(caller: TeamCaller, ctx: TeamRunContext, args: Record<string, unknown>): Promise<TeamReply> {
    const attempt = this.attempts.get(ctx.attempt);
    if (attempt === undefined) return { content: 'error: your attempt is no longer live', isError: true };
    const limits = this.limitsOf(ctx.teamId);
    const task = await this.opts.store.withTenant(caller.tenant, (s) => s.teamTasks.claim({
      teamId: ctx.teamId, member: caller.agent, leaseMs: limits.leaseMs, ...(typeof args.taskId === 'string' ? { taskId: args.taskId } : {}),
    }));
    if (task === null) return { content: 'no task to claim' };
    attempt.extra.push({ id: task.id, token: task.claimToken as string });
    this.emitTask(caller.tenant, task);
    return { content: JSON.stringify({ taskId: task.id, title: task.title, input: task.input }) };
  }

  private async complete(caller: TeamCaller, ctx: TeamRunContext, args: Record<string, unknown>): Promise<TeamReply> {
    const lease = this.leaseOf(ctx, args);
    if (lease === undefined) return { content: 'error: you hold no claim on that task', isError: true };
    const task = await this.submit(caller.tenant, ctx.teamId, lease, String(args.result ?? ''), 0, `agent:${caller.agent}`);
    if (task === null) return { content: 'error: this task is no longer yours (its lease expired, or it was cancelled or already handed in)', isError: true };
    return { content: `handed in: task ${task.id} is ${task.status}` };
  }

  private async failTask(caller: TeamCaller, ctx: TeamRunContext, args: Record<string, unknown>): Promise<TeamReply> {
    const lease = this.leaseOf(ctx, args);
    if (lease === undefined) return { content: 'error: you hold no claim on that task', isError: true };
    const task = await this.opts.store.withTenant(caller.tenant, (s) => s.teamTasks.fail(lease, String(args.reason ?? 'failed'), `agent:${caller.agent}`));
    if (task === null) return { content: 'error: this task is no longer yours', isError: true };
    this.emitTask(caller.tenant, task);
    this.kick();
    return { content: `task ${task.id} failed` };
  }

  private async reviewTask(caller: TeamCaller, ctx: TeamRunContext, args: Record<string, unknown>): Promise<TeamReply> {
    const approve = args.verdict === 'approve';
    const task = await this.opts.store.withTenant(caller.tenant, (s) => s.teamTasks.review(ctx.teamId, ctx.taskId, ctx.lease, {
      reviewer: caller.agent, approve, feedback: String(args.feedback ?? ''),
    }));
    if (task === null) return { content: 'error: this review is no longer yours', isError: true };
    this.emitTask(caller.tenant, task);
    this.kick();
    return { content: `task ${task.id} is ${task.status}` };
  }

  private async delegate(caller: TeamCaller, args: Record<string, unknown>, deferReply: () => Replier | undefined): Promise<TeamReply | undefined> {
    const from = this.agents.get(caller.agent);
    const target = typeof args.agent === 'string' ? args.agent : '';
    if (!(from?.allowAgents ?? []).includes(target) || !this.agents.has(target)) {
      return { content: `error: ${caller.agent} may not delegate to "${target}" (allowAgents)`, isError: true };
    }
    if (target === caller.agent || caller.chain.includes(target)) {
      return { content: `error: loop detected: ${[...caller.chain, caller.agent, target].join(' → ')}`, isError: true };
    }
    if (!(await this.definitionsOf(caller.tenant)).agents.has(target)) {
      return { content: `error: "${target}" is not an agent of tenant ${caller.tenant} (it was deleted, or never defined there)`, isError: true };
    }
    const team = this.teamConfig(`@${caller.agent}`) as TeamConfig;
    const maxDepth = from?.delegationDepth ?? TEAM_DEFAULTS.maxDepth;
    if (caller.chain.length + 1 > maxDepth) {
      return { content: `error: delegation depth limit reached (max depth ${maxDepth}): ${[...caller.chain, caller.agent].join(' → ')}`, isError: true };
    }
    const sync = args.mode !== 'async';
    // Outside the transaction: on PGlite the owner's query would queue behind it.
    await this.opts.ensureTenant?.(caller.tenant);
    const { run, task } = await this.opts.store.withTenant(caller.tenant, async (s) => {
      const run = await this.runFor(s, team, caller);
      const task = await s.teamTasks.create({
        runId: run.id, teamId: team.id, title: `delegated to ${target}`, input: String(args.task ?? ''), assignee: target,
        depth: caller.chain.length + 1, chain: [...caller.chain, caller.agent],
      }, `agent:${caller.agent}`);
      return { run, task };
    });
    this.track(caller.tenant, run);
    this.emitTask(caller.tenant, task);
    this.kick();
    if (!sync) return { content: JSON.stringify({ taskId: task.id, status: task.status, note: 'the result will come as a message' }) };
    const replier = deferReply();
    if (replier !== undefined) this.waiters.set(task.id, replier);
    return undefined;
  }

  // ---------------------------------------------------------------- attempts

  private limitsOf(teamId: string): TeamLimits {
    return { ...TEAM_DEFAULTS, ...this.teamConfig(teamId)?.limits };
  }

  private slotKey(tenant: string, teamId: string, agent: string): string {
    return `${tenant}\u0000${teamId}\u0000${agent}`;
  }

  private abortAttempt(token: string): void {
    this.attempts.get(token)?.ref.tell('abort');
    this.dropAttempt(token);
  }

  private reportUsage(job: TeamJob, outcome: AttemptOutcome, attempt: Attempt | undefined): void {
    try {
      this.opts.onRunEnd?.({
        runId: `${job.taskId}:${job.lease.token}`, caller: { tenant: job.tenant, user: `team:${job.teamId}` }, agent: job.agent,
        outcome: outcome.ok ? 'ok' : 'error', usage: outcome.usage, provider: outcome.provider, model: outcome.model,
        latencyMs: attempt === undefined ? 0 : performance.now() - attempt.startedAt,
      });
    } catch (err) {
      this.opts.log?.('recording the usage of a team attempt failed', err);
    }
  }

  private dropAttempt(token: string): Attempt | undefined {
    const a = this.attempts.get(token);
    if (a === undefined) return undefined;
    this.attempts.delete(token);
    const k = this.slotKey(a.job.tenant, a.job.teamId, a.job.agent);
    this.busy.set(k, Math.max(0, (this.busy.get(k) ?? 1) - 1));
    return a;
  }

  private spawnAttempt(job: TeamJob, config: AgentConfig, owned: Pick<TenantDefinitions, 'providers' | 'mcpServers'>): void {
    const { providers, mcpServers } = owned;
    const ref = this.opts.system.spawn<'abort'>({
      module: WORKER_MODULE, export: 'teamWorker',
      args: {
        job, config, coordinator: this.ref, ...(providers === undefined ? {} : { providers }), ...(mcpServers === undefined ? {} : { mcpServers }),
        ...(this.opts.audit ? { audit: this.opts.audit } : {}),
      },
    }, { placement: { key: `${job.taskId}:${job.lease.token}` }, restart: 'temporary' });
    this.attempts.set(job.lease.token, { job, ref, lastBeat: Date.now(), extra: [], startedAt: performance.now() });
    const k = this.slotKey(job.tenant, job.teamId, job.agent);
    this.busy.set(k, (this.busy.get(k) ?? 0) + 1);
  }

  private async attemptDone(job: TeamJob, outcome: AttemptOutcome): Promise<void> {
    const attempt = this.dropAttempt(job.lease.token);
    const by = `agent:${job.agent}`;
    this.reportUsage(job, outcome, attempt);
    await this.opts.store.withTenant(job.tenant, async (s) => {
      if (outcome.tokens > 0) {
        await s.teamRuns.addTokens(job.runId, outcome.tokens);
        const live = this.live.get(`${job.tenant}\u0000${job.runId}`);
        if (live !== undefined) live.run = { ...live.run, tokensUsed: live.run.tokensUsed + outcome.tokens };
      }
      for (const extra of attempt?.extra ?? []) {
        const back = await s.teamTasks.release(extra, 'the attempt that claimed it ended without handing it in', by);
        if (back !== null) this.emitTask(job.tenant, back);
      }
    });
    if (job.role === 'member') {
      if (outcome.ok) await this.submit(job.tenant, job.teamId, job.lease, outcome.text, outcome.tokens, by);
      else {
        const task = await this.opts.store.withTenant(job.tenant, (s) => s.teamTasks.release(job.lease, outcome.error, by));
        if (task !== null) this.emitTask(job.tenant, task);
      }
    } else {
      // A reviewer that answered without the tool: APPROVE… approves, anything else is feedback.
      const text = outcome.ok ? outcome.text.trim() : '';
      const verdict = outcome.ok
        ? { reviewer: job.agent, approve: /^approve/i.test(text), feedback: text.slice(0, 8000) }
        : undefined;
      const task = await this.opts.store.withTenant(job.tenant, async (s) => verdict === undefined
        ? null
        : s.teamTasks.review(job.teamId, job.taskId, job.lease, verdict));
      if (task !== null) this.emitTask(job.tenant, task);
    }
    this.kick();
  }

  /** A member's result: done, in review, or (schema review) checked right here. */
  private async submit(tenant: string, teamId: string, lease: Lease, result: string, tokens: number, by: string): Promise<TeamTask | null> {
    return this.opts.store.withTenant(tenant, async (s) => {
      let task = await s.teamTasks.submit(lease, result, tokens, by);
      if (task === null) return null;
      this.emitTask(tenant, task);
      if (task.status === 'in_review' && task.review === 'schema') {
        const issues = schemaIssues(task.resultSchema ?? {}, result);
        task = await s.teamTasks.review(teamId, task.id, null, { reviewer: 'schema', approve: issues.length === 0, feedback: issues.join('; ') });
        if (task !== null) this.emitTask(tenant, task);
      }
      return task;
    });
  }

  // ---------------------------------------------------------------- the sweep

  private sweeping = false;
  private again = false;

  /** Runs a sweep now, or right after the one in progress (a change may have freed work). */
  private kick(): void {
    if (this.closed) return;
    if (this.sweeping) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.sweep(), 0);
  }

  private sweep(): void {
    this.sweeping = true;
    this.ticking = this.tick().catch((err: unknown) => this.log('team sweep failed', err)).finally(() => {
      this.sweeping = false;
      if (this.closed) return;
      const delay = this.again ? 0 : this.opts.tickMs ?? 200;
      this.again = false;
      this.timer = setTimeout(() => this.sweep(), delay);
    });
  }

  private async tick(): Promise<void> {
    const tenants = new Set([...this.live.values()].map((r) => r.tenant));
    for (const tenant of tenants) {
      await this.sweepLeases(tenant);
      const runs = [...this.live.values()].filter((r) => r.tenant === tenant);
      for (const live of runs) await this.checkRun(live);
      const teams = new Set(runs.filter((r) => !r.ended).map((r) => r.team.id));
      for (const teamId of teams) await this.dispatch(tenant, teamId);
      for (const live of runs) await this.maybeEnd(live);
      for (const live of runs) await this.deliver(live);
      for (const live of runs) if (live.ended && live.delivering === undefined && live.nextDeliveryAt === Number.POSITIVE_INFINITY) this.live.delete(`${tenant}\u0000${live.run.id}`);
    }
  }

  private async sweepLeases(tenant: string): Promise<void> {
    const now = Date.now();
    const byLease = new Map<number, Lease[]>();
    for (const a of this.attempts.values()) {
      if (a.job.tenant !== tenant || now - a.lastBeat > a.job.leaseMs / 2) continue;
      const list = byLease.get(a.job.leaseMs) ?? [];
      list.push(a.job.lease, ...a.extra);
      byLease.set(a.job.leaseMs, list);
    }
    const reclaimed = await this.opts.store.withTenant(tenant, async (s) => {
      for (const [ms, leases] of byLease) await s.teamTasks.heartbeat(leases, ms);
      return s.teamTasks.reclaimExpired(COORDINATOR);
    });
    for (const task of reclaimed) {
      // Whoever held it is presumed dead; if it is only slow, its token no longer counts.
      for (const [token, a] of this.attempts) if (a.job.taskId === task.id && a.job.lease.token !== task.claimToken) this.abortAttempt(token);
      this.emitTask(tenant, task, { reclaimed: true });
    }
  }

  private async checkRun(live: LiveRun): Promise<void> {
    if (live.ended) return;
    const { tenant, run } = live;
    const cancelled = await this.opts.store.withTenant(tenant, (s) => s.teamTasks.cancelBlocked(run.id, COORDINATOR));
    for (const t of cancelled) this.emitTask(tenant, t);
    const fresh = await this.opts.store.withTenant(tenant, (s) => s.teamRuns.get(run.id));
    if (fresh === null) return;
    live.run = fresh;
    if (fresh.status !== 'running') {
      live.ended = true;
      return;
    }
    const overBudget = budgetExhausted(fresh);
    if (overBudget !== undefined) await this.endRun(live, 'failed', overBudget);
    else if (Date.now() > fresh.deadlineAt.getTime()) await this.endRun(live, 'failed', `deadline passed (max duration ${live.limits.maxDurationMs} ms)`);
  }

  private async dispatch(tenant: string, teamId: string): Promise<void> {
    const team = this.teamConfig(teamId);
    if (team === undefined) return;
    const limits = this.limitsOf(teamId);
    const roles: ['member' | 'reviewer', string[]][] = [['member', team.members], ['reviewer', team.reviewers ?? []]];
    // Each attempt runs on the tenant's definition as it is now: a change reaches the next attempt.
    const defs = await this.definitionsOf(tenant);
    for (const [role, agents] of roles) {
      for (const agent of agents) {
        // A name the tenant does not define claims nothing (creating a task for it was refused).
        const config = defs.agents.get(agent);
        if (config === undefined) continue;
        const k = this.slotKey(tenant, teamId, agent);
        while ((this.busy.get(k) ?? 0) < limits.memberConcurrency && !this.closed) {
          const task = await this.opts.store.withTenant(tenant, (s) => role === 'member'
            ? s.teamTasks.claim({ teamId, member: agent, leaseMs: limits.leaseMs })
            : s.teamTasks.claimReview({ teamId, reviewer: agent, leaseMs: limits.leaseMs }));
          if (task === null) break;
          const lease = { id: task.id, token: task.claimToken as string };
          this.spawnAttempt({
            role, tenant, teamId, runId: task.runId, taskId: task.id, lease, agent, prompt: role === 'member' ? memberPrompt(task) : reviewPrompt(task),
            chain: task.chain, leaseMs: limits.leaseMs, timeoutMs: limits.attemptTimeoutMs,
          }, config, defs);
          if (role === 'member') {
            this.emitTask(tenant, task);
            const started = await this.opts.store.withTenant(tenant, (s) => s.teamTasks.start(lease, limits.leaseMs));
            if (started !== null) this.emitTask(tenant, started);
          } else this.emitTask(tenant, task, { reviewer: agent });
        }
      }
    }
  }

  /** Hands finished outcomes to whoever waits: a sync delegation's caller, else the lead's session. */
  private async deliver(live: LiveRun): Promise<void> {
    const { tenant, run } = live;
    if (live.delivering !== undefined || Date.now() < live.nextDeliveryAt) return;
    const tasks = await this.opts.store.withTenant(tenant, (s) => s.teamTasks.undelivered(run.id));
    const waited = tasks.filter((t) => this.waiters.has(t.id));
    if (waited.length > 0) {
      await this.opts.store.withTenant(tenant, (s) => s.teamTasks.markDelivered(waited.map((t) => t.id)));
      for (const t of waited) {
        this.waiters.get(t.id)?.resolve((t.status === 'done'
          ? { content: t.result ?? '' }
          : { content: `error: the delegated task ${t.status}: ${t.error ?? ''}`, isError: true }) satisfies TeamReply);
        this.waiters.delete(t.id);
        this.emit(tenant, run, 'team.task.delivered', { task: taskView(t) });
      }
    }
    const rest = tasks.filter((t) => !this.waiters.has(t.id) && !waited.includes(t));
    // The run's end goes with its last outcomes (an agent's own delegations need no note).
    const last = live.ended && tasks.length < 500;
    const endNote = last && !run.teamId.startsWith('@') ? runEndNote(live.run) : '';
    if (rest.length === 0 && endNote === '') {
      if (last) live.nextDeliveryAt = Number.POSITIVE_INFINITY;
      return;
    }
    const message = [`[team ${run.teamId} · run ${run.id}]`, ...rest.map(outcomeLine), ...(endNote ? [endNote] : [])].join('\n');
    try {
      const turn: LeadTurn = { runId: '', done: false };
      const ended = (): void => {
        turn.done = true;
        if (live.delivering !== turn) return;
        clearTimeout(turn.timer);
        live.delivering = undefined;
        this.kick();
      };
      const key = `team:${run.id}:${rest.map((t) => t.seq).join(',').slice(0, 80)}:${rest.length}${endNote ? ':end' : ''}`;
      turn.runId = (await this.opts.lead.send(tenant, run.leadSession, run.leadAgent, message, ended, key.slice(0, 128))).runId;
      if (!turn.done) {
        // A lead that stops answering does not hold the run: its turn is aborted and the run moves on.
        turn.timer = setTimeout(() => {
          if (live.delivering !== turn) return;
          live.delivering = undefined;
          void this.opts.lead.abort(tenant, run.leadSession, turn.runId).catch(() => undefined);
          this.emit(tenant, run, 'team.lead.timeout', { leadSession: run.leadSession, leadRunId: turn.runId });
          this.kick();
        }, live.limits.leadTurnTimeoutMs);
        turn.timer.unref();
        live.delivering = turn;
      }
      await this.opts.store.withTenant(tenant, (s) => s.teamTasks.markDelivered(rest.map((t) => t.id)));
      for (const t of rest) this.emit(tenant, run, 'team.task.delivered', { task: taskView(t) });
      if (last) live.nextDeliveryAt = Number.POSITIVE_INFINITY;
    } catch (err) {
      // Not accepted (the lead's worker is being replaced…): nothing is marked; try again shortly.
      live.nextDeliveryAt = Date.now() + 1_000;
      this.log(`delivery to lead session ${run.leadSession} failed; retrying`, err);
    }
  }

  /**
   * A run with nothing left to do and no lead turn in progress ends; its last
   * outcomes then go to the lead together with the end. It leaves memory once
   * everything is delivered.
   */
  private async maybeEnd(live: LiveRun): Promise<void> {
    if (live.ended || live.delivering !== undefined) return;
    const counts = await this.opts.store.withTenant(live.tenant, (s) => s.teamTasks.counts(live.run.id));
    const open = counts.pending + counts.claimed + counts.running + counts.in_review;
    const total = open + counts.done + counts.failed + counts.cancelled;
    if (open > 0 || total === 0) return;
    // Read after the counts: a task's tokens are added before it is handed in, so this run has
    // counted every task just counted finished (this sweep's checkRun may have read it before).
    const run = await this.opts.store.withTenant(live.tenant, (s) => s.teamRuns.get(live.run.id));
    const overBudget = run === null ? undefined : budgetExhausted(run);
    if (overBudget !== undefined) await this.endRun(live, 'failed', overBudget);
    else if (counts.failed > 0) await this.endRun(live, 'failed', `${counts.failed} of ${total} tasks failed`);
    else if (counts.done === 0) await this.endRun(live, 'cancelled', 'every task was cancelled');
    else await this.endRun(live, 'done');
  }

  private async endRun(live: LiveRun, status: 'done' | 'failed' | 'cancelled', error?: string): Promise<void> {
    const run = await this.opts.store.withTenant(live.tenant, (s) => s.teamRuns.finish(live.run.id, status, COORDINATOR, error));
    live.ended = true;
    if (run === null) return;
    live.run = run;
    for (const [token, a] of this.attempts) if (a.job.runId === run.id) this.abortAttempt(token);
    this.emit(live.tenant, run, `team.run.${status}`, { run: runView(run) });
  }

  // ---------------------------------------------------------------- events

  private emitTask(tenant: string, task: TeamTask, extra: Record<string, unknown> = {}): void {
    const live = this.live.get(`${tenant}\u0000${task.runId}`);
    this.emit(tenant, live?.run, `team.task.${task.status}`, { task: taskView(task), ...extra }, task.teamId);
  }

  private emit(tenant: string, run: TeamRun | undefined, event: string, payload: Record<string, unknown>, teamId = run?.teamId): void {
    for (const l of this.listeners) {
      if (l.tenant !== tenant || (l.teamId !== undefined && l.teamId !== teamId)) continue;
      if (l.sessionKey !== undefined && l.sessionKey !== run?.leadSession) continue;
      try {
        l.fn(event, { teamId, ...(run ? { runId: run.id } : {}), ...payload });
      } catch {
        // a listener never throws by contract
      }
    }
  }
}

/** Why a run past its token budget fails, or undefined within it. */
function budgetExhausted(run: TeamRun): string | undefined {
  return run.tokensUsed > run.tokenBudget ? `token budget exhausted (${run.tokensUsed} of ${run.tokenBudget} tokens)` : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function schemaIssues(schema: Record<string, unknown>, result: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(result);
  } catch {
    return ['the result is not valid JSON'];
  }
  return validate(schema as JsonSchema, value).map((i) => `${i.path}: ${i.message}`);
}

function memberPrompt(task: TeamTask): string {
  const parts = [`Team task #${task.seq}: ${task.title}`, '', task.input];
  if (task.feedback) parts.push('', `A reviewer sent your last result back (round ${task.round}): ${task.feedback}`);
  if (task.resultSchema) parts.push('', `Answer with JSON matching this schema: ${JSON.stringify(task.resultSchema)}`);
  parts.push('', 'Hand in the result with team_task_complete (or answer with it), or give up with team_task_fail.');
  return parts.join('\n');
}

function reviewPrompt(task: TeamTask): string {
  return [
    `Review the result of team task #${task.seq}: ${task.title}`, '', 'The task:', task.input, '', 'The result:', task.result ?? '', '',
    'Call team_task_review with verdict approve or reject (and feedback), or answer starting with APPROVE or with what to fix.',
  ].join('\n');
}

function outcomeLine(t: TeamTask): string {
  const head = `- task #${t.seq} ${t.id} "${t.title}": ${t.status}`;
  if (t.status === 'done') return `${head}\n  result: ${(t.result ?? '').slice(0, RESULT_IN_MESSAGE)}`;
  const reviews = t.reviews.length > 0 ? `\n  reviews: ${t.reviews.map((r) => `round ${r.round} ${r.reviewer} ${r.verdict}: ${r.feedback}`).join(' | ')}` : '';
  return `${head}${t.error ? ` (${t.error})` : ''}${reviews}`;
}

function runEndNote(run: TeamRun): string {
  return `[team run ${run.id} ended: ${run.status}${run.error ? ` (${run.error})` : ''}]`;
}

export function taskView(t: TeamTask): Record<string, unknown> {
  return {
    id: t.id, runId: t.runId, seq: t.seq, title: t.title, status: t.status, assignee: t.assignee, claimedBy: t.claimedBy,
    blockedBy: t.blockedBy, attempts: t.attempts, round: t.round, review: t.review, error: t.error,
    delivered: t.deliveredAt !== null, createdAt: t.createdAt.toISOString(), finishedAt: t.finishedAt?.toISOString() ?? null,
  };
}

function runView(r: TeamRun): Record<string, unknown> {
  return {
    id: r.id, teamId: r.teamId, leadAgent: r.leadAgent, leadSession: r.leadSession, status: r.status, tasksCreated: r.tasksCreated,
    maxTasks: r.maxTasks, tokensUsed: r.tokensUsed, tokenBudget: r.tokenBudget, error: r.error,
    createdAt: r.createdAt.toISOString(), finishedAt: r.finishedAt?.toISOString() ?? null,
  };
}

