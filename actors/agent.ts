/**
 * The agent actor: the think → act → observe loop. Each iteration streams one
 * reply from the provider (deltas go to the client as they arrive); if the
 * model called tools, they run (read-only ones in parallel, results kept in
 * call order), their results go back into the conversation, and the loop goes
 * on, until the model answers without tools, the iteration limit is reached,
 * a loop is detected, or the run is aborted.
 *
 * Sub-agents (the spawn_agent tool) are child actors running the same loop
 * headless, within depth, fan-out and concurrency limits.
 */
import { randomUUID } from 'node:crypto';
import {
  ProviderError, ReplyCollector, createProvider, type ChatMessage, type ChatRequest, type Provider, type ProviderConfig, type StopReason, type StreamEvent, type ToolCall, type ToolSpec,
} from '../providers/index.js';
import { endSpan as endModelSpan, modelCall, modelEvent } from './model_span.js';
import {
  SpanKind, currentContext, endSpan, inSpan, spanContext, startSpan, untraced, withContext, type Context,
} from '../observability/tracing.js';
import { callWithFailover } from './provider/chain.js';
import { providerRegistryReady } from './provider/host.js';
import { tenantRegistry, type FetchKey } from './provider/tenant_layers.js';
import type { ActorContext, ActorRef, Behavior } from '../runtime/index.js';
import { scrub } from '../security/scrub.js';
import { clampResult } from '../tools/output.js';
import { ToolPolicy } from '../tools/policy.js';
import { installedToolbox, type AgentTool, type ToolCallContext, type ToolOutcome } from './agent_tools.js';
import { extractiveSummary, planCompaction } from './context_window.js';
import { DEFAULT_LOOP_LIMITS, LoopDetector } from './loop_detector.js';
import type { PersistRequest } from './persistence.js';
import type { RunProgress, ServedBy, Usage } from './chat_contract.js';
import type { AgentConfig, DirectoryRequest, KeySource, RunEvent, SessionRequest, StoredMessage, TenantMcpServers, TenantProviders } from './protocol.js';
import type { TenantToolLease } from './tenant_mcp.js';
import type { TeamRequest, TeamRunContext } from './team/protocol.js';
import { teamTools, type HandoffControl } from './team/tools.js';

export interface AgentRun {
  t: 'run';
  runId: string;
  history: StoredMessage[];
  /** Same-thread only: the session (or parent agent) aborts the run through it. */
  signal: AbortSignal;
  /** The session to tell when done; absent for a sub-agent (the parent asks and awaits). */
  session?: ActorRef<SessionRequest>;
  tenant: string;
  sessionKey: string;
  /** Replaces `history`: the whole conversation as a stateless client keeps it. */
  conversation?: ChatMessage[];
  /** Tools the client runs itself: a reply calling any of them ends the run with stop reason `tool_calls`. */
  clientTools?: ToolSpec[];
  /** Events before the terminal one the client wants (absent: all). */
  progress?: RunProgress;
  /** Agents the work passed through before this one (delegation loop and depth checks). */
  chain?: string[];
  /** Set when the run works a team task (member) or judges one (reviewer). */
  team?: TeamRunContext;
}

/** Stop once the runs before this message are done (the session got a new definition). */
export interface AgentRetire {
  t: 'retire';
}

/** What an agent actor receives. */
export type AgentMessage = AgentRun | AgentRetire;

/** `provider` and `model`: who answered the run's last model call. */
export interface RunResult extends ServedBy {
  text: string;
  usage: Usage;
  stopReason: string;
  /** With stop reason `tool_calls`: the calls of client tools, for the client to run. */
  toolCalls?: ToolCall[];
  /** With stop reason `handoff`: who takes the conversation over, and why. */
  handoff?: { to: string; reason: string };
}

export const AGENT_DEFAULTS = {
  maxIterations: 20,
  maxDepth: 1,
  maxFanOut: 4,
  maxConcurrentSubagents: 2,
  contextTokens: 32_000,
};

/** Characters of a tool call's arguments or result carried in a `chat.tool` event. */
export const TOOL_EVENT_MAX_CHARS = 2_000;

/**
 * What a run has used so far, and who answered its last model call: kept
 * outside the loop so a failed or aborted run still reports it (usage and budgets).
 */
type Spend = { usage: Usage } & ServedBy;

function addUsage(into: Usage, more: Usage): void {
  into.inputTokens += more.inputTokens;
  into.outputTokens += more.outputTokens;
  if (more.cachedTokens !== undefined) into.cachedTokens = (into.cachedTokens ?? 0) + more.cachedTokens;
}

/** What a run emits; the top-level agent forwards to the router, a sub-agent emits nothing. */
type Emit = (event: RunEvent[1], payload: Record<string, unknown>) => void;

export interface AgentArgs {
  config: AgentConfig; router?: ActorRef<RunEvent>; depth?: number; directory?: ActorRef<DirectoryRequest>;
  /** Where tool calls are audited (the persistence actor); absent: not audited. */
  audit?: ActorRef<PersistRequest>;
  /** The team coordinator (team tools, delegate); absent: none offered. */
  team?: ActorRef<TeamRequest>;
  /** The tenant's own providers, which the chain may name besides the config file's. */
  providers?: TenantProviders;
  /** The tenant's own MCP servers, whose tools the agent is offered besides the worker's. */
  mcpServers?: TenantMcpServers;
}

/** What a tenant owns that an agent's sub-agents get too. */
type Owned = Pick<AgentArgs, 'providers' | 'mcpServers'>;

/** A named call on the store worker, as a KeySource names it (a provider's key, an MCP server's values). */
function askKeySource<T>(source: KeySource, args: Record<string, unknown>): Promise<T> {
  return source.store.ask({ t: 'call', module: source.module, export: source.export, args: { ...source.extra, ...args } }, { timeoutMs: 30_000 }) as Promise<T>;
}

const NO_TOOLS: TenantToolLease = { tools: [], release: () => undefined };

/**
 * The tools of the tenant's own MCP servers for one run, from this worker's
 * toolbox (connected at the first run after a change; an empty list closes
 * the tenant's clients). Release the lease when the run ends.
 */
export function tenantTools(tenant: string, servers: TenantMcpServers | undefined): Promise<TenantToolLease> {
  const toolbox = installedToolbox();
  if (servers === undefined || toolbox?.forTenant === undefined) return Promise.resolve(NO_TOOLS);
  const source = servers.secrets;
  return toolbox.forTenant(tenant, servers.list, (t, id) => (source === undefined ? Promise.resolve(null) : askKeySource(source, { tenant: t, id })));
}

const tellSession = (m: { session: ActorRef<SessionRequest>; done: SessionRequest }): void => m.session.tell(m.done);

/** What a turn needs of the actor it runs in: somewhere to spawn (and stop) its sub-agents. */
export type TurnContext = Pick<ActorContext<unknown>, 'spawn' | 'stop'>;

/** Runs one turn; resolves with its result, or undefined when it ended in chat.error. */
export type AgentTurn = (run: AgentRun, ctx: TurnContext) => Promise<RunResult | undefined>;

/** The agent actor: one turn at a time, from its mailbox, until it is retired. */
export function agent(args: AgentArgs): Behavior<AgentMessage> {
  const turn = agentTurns(args);
  return {
    receive(msg, ctx) {
      if (msg.t === 'retire') {
        ctx.stop();
        return undefined;
      }
      return turn(msg, ctx);
    },
  };
}

/**
 * An agent's turns as a plain function, for callers that run many side by
 * side (the stateless runner, runner.ts): each call is one independent turn.
 */
export function agentTurns(args: AgentArgs): AgentTurn {
  const { config, router, directory, audit, team, providers, mcpServers } = args;
  const owned: Owned = { ...(providers === undefined ? {} : { providers }), ...(mcpServers === undefined ? {} : { mcpServers }) };
  const depth = args.depth ?? 0;
  const tellRouter = (ev: RunEvent): void => router?.tell(ev);
  let callModel: CallModel | undefined;
  // `trace`: the run's span's context, carried by hand across the run's awaits (the context follows only
  // synchronous calls: observability/context_managers.ts); undefined with tracing off.
  const handle = async (run: AgentRun, ctx: TurnContext, trace: Context | undefined): Promise<RunResult | undefined> => {
    const progress = run.progress ?? 'all';
    const toClient: Emit = router === undefined || depth > 0
      ? () => undefined
      : (event, payload) => {
        // Events the client did not ask for are not sent at all (each one is a thread hop).
        if ((event === 'chat.tool' && progress !== 'all') || (event === 'chat.delta' && progress === 'none')) return;
        const ev: RunEvent = [run.runId, event, { runId: run.runId, ...payload }];
        // The router hands a run's events to the front door, which has the turn's own context (chat_run.ts):
        // none needs a trace of its own across the hop (the usage row the end leads to is written untraced).
        untraced(tellRouter, ev);
      };
    // What the client has been sent so far: an aborted run's chat.final carries it.
    let streamed = '';
    // Every finished tool call also leaves an audit row (sub-agents' calls included).
    const emit: Emit = (event, payload) => {
      if (event === 'chat.delta') streamed += String(payload.delta);
      toClient(event, payload);
      if (audit !== undefined && event === 'chat.tool' && payload.phase === 'end') {
        audit.tell({
          t: 'audit', tenant: run.tenant,
          event: {
            actor: `agent:${config.id}`, action: 'tool.call', target: String(payload.name), outcome: payload.ok === true ? 'success' : 'failure',
            detail: { sessionKey: run.sessionKey, runId: run.runId, callId: payload.callId, depth },
          },
        });
      }
    };
    let result: RunResult | undefined;
    const spend: Spend = { usage: { inputTokens: 0, outputTokens: 0 } };
    // The tenant's MCP tools as they are at the run's start: a change meanwhile waits for the next run.
    let lease: TenantToolLease | undefined;
    try {
      callModel ??= modelCaller(config, run.tenant, providers);
      const untracedCall = callModel;
      const call: CallModel = trace === undefined ? untracedCall : (request, onEvent) => withContext(trace, () => untracedCall(request, onEvent));
      lease = await tenantTools(run.tenant, mcpServers);
      result = await runLoop(config, call, run, depth, ctx, emit, directory, audit, team, spend, owned, lease.tools, trace);
      if (spend.provider !== undefined) result = { ...result, provider: spend.provider, model: spend.model };
      emit('chat.final', {
        ...spend, text: result.text, usage: result.usage, stopReason: result.stopReason, ...(result.toolCalls === undefined ? {} : { toolCalls: result.toolCalls }),
        ...(result.handoff === undefined ? {} : { handoff: result.handoff }),
      });
      return result;
    } catch (err) {
      if (run.signal.aborted) {
        emit('chat.final', { ...spend, text: streamed, stopReason: 'aborted' });
        return { text: streamed, usage: spend.usage, stopReason: 'aborted' } satisfies RunResult;
      }
      // What was streamed goes with the error: a reply sent whole at the end (WhatsApp, Zalo) never saw the deltas.
      emit('chat.error', { ...spend, error: wireError(err), ...(streamed.length > 0 ? { text: streamed } : {}) });
      if (depth > 0) throw err;
      return undefined;
    } finally {
      lease?.release();
      // Untraced: the session only keeps the answer, whose store write goes untraced (session.ts).
      if (run.session !== undefined) untraced(tellSession, { session: run.session, done: { t: 'run-done', runId: run.runId, ...(result && result.text.length > 0 ? { text: result.text } : {}) } });
    }
  };
  return (run, ctx) => {
    // The agent's run, parent of its model and tool calls (GenAI conventions: invoke_agent): the turn's
    // span on the worker, a child of the front door's (the session's part is synchronous and has no span of its own).
    const span = startSpan(`invoke_agent ${config.id}`, SpanKind.INTERNAL, {
      'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': config.id, 'troupe.run_id': run.runId, 'troupe.agent.depth': depth,
      'troupe.tenant': run.tenant, 'troupe.session_key': run.sessionKey,
    });
    if (span === undefined) return handle(run, ctx, undefined);
    const trace = spanContext(span);
    return withContext(trace, () => handle(run, ctx, trace)).then((result) => {
      if (result !== undefined) {
        span.setAttribute('gen_ai.usage.input_tokens', result.usage.inputTokens);
        span.setAttribute('gen_ai.usage.output_tokens', result.usage.outputTokens);
        span.setAttribute('troupe.stop_reason', result.stopReason);
      }
      endSpan(span, result === undefined ? { message: 'the run ended with chat.error' } : undefined);
      return result;
    }, (err: unknown) => {
      endSpan(span, err);
      throw err;
    });
  };
}

async function runLoop(
  config: AgentConfig, callModel: CallModel, run: AgentRun, depth: number, ctx: TurnContext, emit: Emit,
  directory: ActorRef<DirectoryRequest> | undefined,
  audit: ActorRef<PersistRequest> | undefined,
  team: ActorRef<TeamRequest> | undefined,
  spend: Spend,
  owned: Owned,
  tenantMcpTools: readonly AgentTool[],
  trace: Context | undefined,
): Promise<RunResult> {
  const maxIterations = config.maxIterations ?? AGENT_DEFAULTS.maxIterations;
  const contextTokens = config.contextTokens ?? AGENT_DEFAULTS.contextTokens;
  const tools = new Map<string, AgentTool>();
  const policy = new ToolPolicy(config.tools);
  const control: HandoffControl = {};
  const own = [...ownTools(config, run, depth, ctx, directory, audit, spend, owned), ...(depth === 0 ? teamTools(config, run, team, control) : [])];
  for (const t of [...(installedToolbox()?.tools() ?? []), ...tenantMcpTools, ...own]) {
    if (policy.allows({ name: t.spec.name, group: t.group })) tools.set(t.spec.name, t);
  }
  const clientTools = new Set<string>();
  for (const spec of run.clientTools ?? []) {
    if (tools.has(spec.name)) {
      throw Object.assign(new Error(`the client's tool "${spec.name}" has the name of one of agent ${config.id}'s own tools; rename it`), { code: 'INVALID_REQUEST' });
    }
    clientTools.add(spec.name);
  }
  const specs = [...[...tools.values()].map((t) => t.spec), ...(run.clientTools ?? [])];
  const teamId = memoryTeam(config, run);
  const toolCaller: ToolCaller = { agentId: config.id, ...(teamId === undefined ? {} : { teamId }) };
  let messages: ChatMessage[] = [];
  if (config.systemPrompt) messages.push({ role: 'system', content: config.systemPrompt });
  if (run.conversation !== undefined) messages.push(...run.conversation);
  else for (const m of run.history) messages.push({ role: m.role, content: m.content });
  const detector = new LoopDetector({ ...DEFAULT_LOOP_LIMITS, ...config.loopLimits });
  const usage = spend.usage;
  let text = '';

  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    messages = await compactIfNeeded(messages, contextTokens, callModel, run.signal);
    const reply = await streamOnce(callModel, messages, specs, run.signal, emit);
    addUsage(usage, reply.usage);
    spend.provider = reply.servedBy.provider;
    spend.model = reply.servedBy.model;
    text += reply.text;
    if (reply.toolCalls.length === 0) return { text, usage, stopReason: reply.stopReason ?? 'stop' };
    // The client runs its own tools: hand their calls back and end the run. Calls of the
    // agent's tools in the same reply are not run (the client's next request resumes).
    const forClient = reply.toolCalls.filter((c) => clientTools.has(c.name));
    if (forClient.length > 0) return { text, usage, stopReason: 'tool_calls', toolCalls: forClient };
    messages.push({ role: 'assistant', content: reply.text, toolCalls: reply.toolCalls });
    const outcomes = await runTools(reply.toolCalls, tools, run, emit, toolCaller, trace);
    if (control.handoff !== undefined) {
      const { to, reason } = control.handoff;
      const note = `[handed over to ${to}${reason ? `: ${reason}` : ''}]`;
      emit('chat.delta', { delta: (text ? '\n\n' : '') + note });
      return { text: text + (text ? '\n\n' : '') + note, usage, stopReason: 'handoff', handoff: control.handoff };
    }
    for (let i = 0; i < reply.toolCalls.length; i++) {
      const call = reply.toolCalls[i];
      const outcome = outcomes[i];
      messages.push({ role: 'tool', toolCallId: call.id, content: outcome.content });
      const verdict = detector.record(call.name, parseArgs(call.arguments).args, outcome.content, tools.get(call.name)?.readOnly ?? false);
      if (verdict.action === 'stop') {
        return { text: text + (text ? '\n\n' : '') + `[stopped: ${verdict.message}]`, usage, stopReason: 'loop_detected' };
      }
      if (verdict.action === 'warn') {
        messages.push({ role: 'user', content: `[system note] Possible loop: ${verdict.message}. Change approach or answer now.` });
      }
    }
  }
  return { text, usage, stopReason: 'max_iterations' };
}

interface Reply {
  text: string;
  toolCalls: ToolCall[];
  usage: Usage;
  stopReason?: StopReason;
  servedBy: Served;
}

async function streamOnce(
  callModel: CallModel, messages: ChatMessage[], tools: AgentTool['spec'][], signal: AbortSignal, emit: Emit,
): Promise<Reply> {
  const collector = new ReplyCollector();
  const onEvent = (ev: StreamEvent): void => {
    collector.add(ev);
    if (ev.type === 'text') emit('chat.delta', { delta: ev.delta });
  };
  const servedBy = await callModel({ messages, ...(tools.length > 0 ? { tools } : {}), signal }, onEvent);
  const { text, toolCalls, usage, stopReason } = collector.reply();
  return {
    text,
    toolCalls: toolCalls.map((c, i) => ({ id: c.id || `call_${i}`, name: c.name, arguments: c.arguments || '{}' })),
    usage: {
      inputTokens: usage?.inputTokens ?? 0, outputTokens: usage?.outputTokens ?? 0,
      ...(usage?.cacheReadTokens ? { cachedTokens: usage.cacheReadTokens } : {}),
    },
    ...(stopReason ? { stopReason } : {}),
    servedBy,
  };
}

/** Who answered one model call. */
interface Served {
  provider: string;
  model: string;
}

/** Streams one model reply into `onEvent`. Every model call of a run (the summaries too) goes through one. */
type CallModel = (request: Omit<ChatRequest, 'model'>, onEvent: (ev: StreamEvent) => void) => Promise<Served>;

/**
 * With a chain: through this worker's provider actors (limits, retries,
 * breaker, failover), and `provider` / `model` are not used. Without one:
 * a client built from `provider`, asked for `model`.
 */
function modelCaller(config: AgentConfig, tenant: string, providers: TenantProviders | undefined): CallModel {
  const chain = config.chain;
  if (chain !== undefined && chain.length > 0) {
    const own = providers?.list ?? [];
    const keys = providers?.keys;
    const fetchKey: FetchKey = async (t, id) => {
      if (keys === undefined) return null;
      return askKeySource<string | null>(keys, { tenant: t, id });
    };
    return async (request, onEvent) => {
      // The run's span, current at the call: each attempt's model span is its child (after the awaits in between).
      const trace = currentContext();
      const registry = await tenantRegistry(await providerRegistryReady(), tenant, own, fetchKey);
      const served = await callWithFailover(registry, chain, request, onEvent, trace === undefined ? {} : { trace });
      return { provider: served.providerId, model: served.model };
    };
  }
  const { provider: providerConfig, model } = config;
  if (providerConfig === undefined || model === undefined) {
    throw Object.assign(new Error(`agent ${config.id} has neither a chain nor a provider and model`), { code: 'INTERNAL' });
  }
  const provider = sharedProvider(providerConfig);
  return async (request, onEvent) => {
    const { call, span } = modelCall(provider, model, request);
    try {
      for await (const ev of provider.stream(call)) {
        modelEvent(span, ev);
        onEvent(ev);
      }
    } catch (err) {
      endModelSpan(span, err);
      throw err;
    }
    endModelSpan(span);
    return { provider: providerConfig.kind, model };
  };
}

/** Provider clients by configuration, shared by this worker's agents (one per stateless request would rebuild an SDK client each time). */
const providerClients = new Map<string, Provider>();
const MAX_PROVIDER_CLIENTS = 256;

function sharedProvider(config: ProviderConfig): Provider {
  const key = JSON.stringify(config);
  let client = providerClients.get(key);
  if (client === undefined) {
    client = createProvider(config);
    if (providerClients.size >= MAX_PROVIDER_CLIENTS) providerClients.delete(providerClients.keys().next().value as string);
    providerClients.set(key, client);
  }
  return client;
}

function parseArgs(json: string): { args: Record<string, unknown>; error?: string } {
  try {
    const v = JSON.parse(json) as unknown;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return { args: v as Record<string, unknown> };
    return { args: {}, error: 'tool arguments must be a JSON object' };
  } catch {
    return { args: {}, error: 'tool arguments are not valid JSON' };
  }
}

/**
 * A tool call's arguments or result as a `chat.tool` event carries it: credentials
 * scrubbed (events end up in client logs), clamped, with a note when cut. The model
 * still gets the whole text.
 */
function forEvent(text: string): string {
  return clampResult({ content: scrub(text) }, TOOL_EVENT_MAX_CHARS).content;
}

/** Who calls a tool, beyond the run's session and tenant (memory scopes). */
type ToolCaller = Pick<ToolCallContext, 'agentId' | 'teamId'>;

/**
 * The team whose `team` memory scope this run shares: the task's team for a member
 * or reviewer, else the team the agent leads when it leads exactly one. A
 * delegation's implicit `@agent` team is no team here, and neither is a lead of
 * several teams (which one would it be?): both get no team scope.
 */
export function memoryTeam(config: Pick<AgentConfig, 'leads'>, run: Pick<AgentRun, 'team'>): string | undefined {
  const task = run.team?.teamId;
  if (task !== undefined && !task.startsWith('@')) return task;
  return config.leads?.length === 1 ? config.leads[0] : undefined;
}

/** Runs one turn's calls: consecutive read-only calls together, others alone; results in call order. */
async function runTools(
  calls: ToolCall[], tools: Map<string, AgentTool>, run: AgentRun, emit: Emit, caller: ToolCaller, trace: Context | undefined,
): Promise<ToolOutcome[]> {
  const outcomes: ToolOutcome[] = new Array(calls.length);
  const one = async (i: number): Promise<void> => {
    const call = calls[i];
    const span = startSpan(`execute_tool ${call.name}`, SpanKind.INTERNAL, {
      'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': call.name, 'gen_ai.tool.call.id': call.id,
    }, trace);
    try {
      outcomes[i] = await inSpan(span, () => runOne(call));
      endSpan(span, outcomes[i].isError ? { message: 'the tool reported an error', code: 'tool_error' } : undefined);
    } catch (err) {
      endSpan(span, err);
      throw err;
    }
  };
  const runOne = async (call: ToolCall): Promise<ToolOutcome> => {
    // The tool's span: current while the tool starts, and entered again for the end's audit row.
    const toolTrace = currentContext();
    const tool = tools.get(call.name);
    emit('chat.tool', { name: call.name, phase: 'start', callId: call.id, arguments: forEvent(call.arguments) });
    let outcome: ToolOutcome;
    const parsed = parseArgs(call.arguments);
    if (tool === undefined) outcome = { content: `error: no tool named "${call.name}" is available`, isError: true };
    else if (parsed.error !== undefined) outcome = { content: `error: ${parsed.error}`, isError: true };
    else {
      try {
        outcome = await tool.run(parsed.args, { sessionId: run.sessionKey, tenant: run.tenant, signal: run.signal, ...caller });
      } catch (err) {
        if (run.signal.aborted) throw err;
        const e = err as { code?: string; message?: string };
        outcome = { content: `error${e.code ? ` ${e.code}` : ''}: ${e.message ?? String(err)}`, isError: true };
      }
    }
    const end = outcome;
    withContext(toolTrace, () => emit('chat.tool', { name: call.name, phase: 'end', callId: call.id, ok: end.isError !== true, result: forEvent(end.content) }));
    return outcome;
  };
  let i = 0;
  while (i < calls.length) {
    if (tools.get(calls[i].name)?.readOnly) {
      const batch: number[] = [];
      while (i < calls.length && tools.get(calls[i].name)?.readOnly) batch.push(i++);
      await Promise.all(batch.map(one));
    } else {
      await one(i++);
    }
  }
  return outcomes;
}

async function compactIfNeeded(
  messages: ChatMessage[], budget: number, callModel: CallModel, signal: AbortSignal,
): Promise<ChatMessage[]> {
  const plan = planCompaction(messages, budget);
  if (plan === null) return messages;
  let summary: string;
  try {
    let s = '';
    const request: ChatMessage[] = [
      { role: 'system', content: 'Summarise this conversation in a few sentences, keeping facts, decisions and open questions.' },
      { role: 'user', content: extractiveSummary(plan.older, 8_000) },
    ];
    await callModel({ messages: request, maxTokens: 256, signal }, (ev) => {
      if (ev.type === 'text') s += ev.delta;
    });
    summary = s || extractiveSummary(plan.older);
  } catch (err) {
    if (signal.aborted) throw err;
    summary = extractiveSummary(plan.older);
  }
  const system = messages[0]?.role === 'system' ? [messages[0]] : [];
  return [...system, { role: 'user', content: `[summary of earlier conversation]\n${summary}` }, ...plan.recent];
}

/** The tools an agent brings itself: spawn_agent (within limits). */
function ownTools(
  config: AgentConfig, run: AgentRun, depth: number, ctx: TurnContext, directory: ActorRef<DirectoryRequest> | undefined,
  auditRef: ActorRef<PersistRequest> | undefined, spend: Spend, owned: Owned,
): AgentTool[] {
  const limits = { ...AGENT_DEFAULTS, ...config.subagents };
  let spawned = 0;
  let running = 0;
  const waiting: (() => void)[] = [];
  const spawnAgent: AgentTool = {
    spec: {
      name: 'spawn_agent',
      description: 'Delegate a self-contained task to a sub-agent and get its answer back.',
      parameters: { type: 'object', properties: { task: { type: 'string', description: 'What the sub-agent should do' } }, required: ['task'], additionalProperties: false },
    },
    readOnly: true, // independent sub-agents may run side by side (bounded by maxConcurrentSubagents)
    group: 'agent',
    async run(a) {
      if (depth + 1 > limits.maxDepth) {
        return { content: `error: sub-agent depth limit reached (max depth ${limits.maxDepth}); do the task yourself`, isError: true };
      }
      if (spawned >= limits.maxFanOut) {
        return { content: `error: sub-agent fan-out limit reached (${limits.maxFanOut} per run)`, isError: true };
      }
      const task = typeof a.task === 'string' ? a.task : '';
      if (task.length === 0) return { content: 'error: task must be a non-empty string', isError: true };
      spawned++;
      // The tool call's span is the sub-agent run's parent, also after a wait for a free slot.
      const trace = currentContext();
      while (running >= limits.maxConcurrentSubagents) await new Promise<void>((r) => waiting.push(r));
      running++;
      const child = ctx.spawn<AgentRun>({ factory: agent, args: { config, depth: depth + 1, audit: auditRef, ...owned } }, { restart: 'temporary' });
      try {
        const result = (await withContext(trace, () => child.ask({
          t: 'run', runId: randomUUID(), history: [{ role: 'user', content: task, at: Date.now() }],
          signal: run.signal, tenant: run.tenant, sessionKey: run.sessionKey,
          // Same team as the parent (its memory scope); team tools are offered at depth 0 only.
          ...(run.team === undefined ? {} : { team: run.team }),
        }, { timeoutMs: 10 * 60_000 }))) as RunResult;
        // What the sub-agent used counts as this run's (usage, cost and budgets).
        addUsage(spend.usage, result.usage);
        return { content: result.text };
      } catch (err) {
        return { content: `error: the sub-agent failed: ${(err as Error).message}`, isError: true };
      } finally {
        running--;
        waiting.shift()?.();
        ctx.stop(child);
      }
    },
  };
  const sessionsList: AgentTool = {
    spec: {
      name: 'sessions_list',
      description: "List this tenant's live conversation sessions (session key and worker).",
      parameters: { type: 'object', properties: {}, additionalProperties: false },
    },
    readOnly: true,
    group: 'agent',
    async run() {
      if (directory === undefined) return { content: 'error: no session directory is available here', isError: true };
      const sessions = await directory.ask({ t: 'list', tenant: run.tenant }, { timeoutMs: 5_000 });
      return { content: JSON.stringify(sessions) };
    },
  };
  return [spawnAgent, sessionsList];
}

function wireError(err: unknown): { code: string; message: string; retryable: boolean; retryAfterMs?: number } {
  if (err instanceof ProviderError) {
    return { code: err.code, message: err.message, retryable: err.retryable, ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }) };
  }
  const e = err as { code?: unknown; message?: unknown; retryable?: unknown; retryAfterMs?: unknown };
  return {
    code: typeof e?.code === 'string' ? e.code : 'INTERNAL',
    message: typeof e?.message === 'string' ? e.message : 'the agent failed',
    retryable: e?.retryable === true,
    ...(typeof e?.retryAfterMs === 'number' ? { retryAfterMs: e.retryAfterMs } : {}),
  };
}
