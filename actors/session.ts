/**
 * The session actor: one per (tenant, session key), on the worker its key
 * hashes to. It owns the conversation history, starts runs on its agent
 * children, aborts them, and passivates (stops, freeing its memory) after
 * `idleMs` without traffic; the backend spawns it again on demand.
 */
import type { ActorContext, ActorRef, Behavior } from '../runtime/index.js';
import { rootLog } from '../observability/log.js';
import { SpanKind, currentContext, endSpan, startChildSpan, untraced, withContext } from '../observability/tracing.js';
import { agent, tenantTools, type AgentMessage } from './agent.js';
import type { AgentConfig, SendReply, SessionArgs, SessionRequest, StoredMessage, TenantMcpServers, TenantProviders } from './protocol.js';
import { stableJson } from './stable_json.js';

/** Idempotency keys remembered per session (oldest forgotten first). */
const MAX_IDEMPOTENCY_KEYS = 256;
/** How long a send with an idempotency key waits for the store to take its message. */
const STORE_ACK_TIMEOUT_MS = 10_000;
const HANDOFF_NOTE = /^\[handoff (\S+) → (\S+)\]/;

export function session(args: SessionArgs): Behavior<SessionRequest> {
  const history: StoredMessage[] = [];
  const runs = new Map<string, AbortController>();
  const idempotency = new Map<string, string>();
  /** The tenant's agents as last pushed (the backend tells every live session when they change). */
  let definitions: AgentConfig[] = args.agents;
  let providers = args.providers;
  let mcpServers = args.mcpServers;
  const agents = new Map<string, ActorRef<AgentMessage>>();
  /** Handoffs: turns for the key's agent go to the value's (followed to the end of the chain). */
  const handedTo = new Map<string, string>();
  const current = (id: string): string => {
    let at = id;
    for (let hops = 0; hops < 16 && handedTo.has(at); hops++) at = handedTo.get(at) as string;
    return at;
  };
  let idle: NodeJS.Timeout | undefined;

  const append = (m: StoredMessage): void => {
    args.persistence?.tell({ t: 'append', tenant: args.tenant, sessionKey: args.sessionKey, agent: args.defaultAgent, message: m });
  };
  /**
   * Keeps a message in the history and has the store write it. Every append goes to the store worker
   * untraced: the user's message of a turn is the turn's store span, recorded here around the hand-off
   * to the store's write path (docs/operations.md). A span on the store worker would have the busiest
   * thread parse the carried traceparent, record and export a span of no duration for each turn;
   * the answer and handoff notes have none.
   */
  const remember = (m: StoredMessage, traced = false): void => {
    const span = traced ? startChildSpan('store.append_message', SpanKind.INTERNAL, { 'troupe.tenant': args.tenant }) : undefined;
    untraced(append, m);
    endSpan(span);
    keep(m);
  };

  /** Adds a message to the history this session keeps (bounded). */
  const keep = (m: StoredMessage): void => {
    history.push(m);
    if (history.length > args.historyLimit) history.splice(0, history.length - args.historyLimit);
  };

  const agentRef = (ctx: ActorContext<SessionRequest>, id: string): ActorRef<AgentMessage> => {
    let ref = agents.get(id);
    if (ref === undefined) {
      const config = definitions.find((a) => a.id === id);
      if (config === undefined) throw Object.assign(new Error(`no agent named "${id}"`), { code: 'NOT_FOUND', reason: 'unknown_agent' });
      ref = ctx.spawn<AgentMessage>({
        factory: agent, args: {
          config, router: args.router, directory: args.directory, audit: args.persistence, team: args.team,
          ...(providers === undefined ? {} : { providers }), ...(mcpServers === undefined ? {} : { mcpServers }),
        },
      }, { restart: 'permanent' });
      agents.set(id, ref);
    }
    return ref;
  };

  /**
   * New definitions: an agent child whose definition changed (or went away) is
   * retired, which it does after the runs already in its mailbox; the next run
   * spawns one with the new definition.
   */
  const redefine = (next: AgentConfig[], nextProviders: TenantProviders['list'], nextMcp: TenantMcpServers['list']): void => {
    const before = new Map(definitions.map((a) => [a.id, stableJson(a)]));
    const after = new Map(next.map((a) => [a.id, stableJson(a)]));
    // Agents hold the tenant's providers and MCP servers too: a change of either retires them all.
    const ownedChanged = stableJson([providers?.list ?? [], mcpServers?.list ?? []]) !== stableJson([nextProviders, nextMcp]);
    if (providers !== undefined) providers = { ...providers, list: nextProviders };
    if (mcpServers !== undefined) {
      mcpServers = { ...mcpServers, list: nextMcp };
      // Apply a change of the servers on this worker now: removed ones are closed (after their runs), new ones connect.
      if (ownedChanged) {
        tenantTools(args.tenant, mcpServers).then((lease) => lease.release(), (err: unknown) => {
          rootLog().warn('connecting a tenant\'s MCP servers failed; the next run tries again', { tenant: args.tenant, error: String(err) });
        });
      }
    }
    for (const [id, ref] of agents) {
      if (!ownedChanged && after.get(id) === before.get(id)) continue;
      agents.delete(id);
      ref.tell({ t: 'retire' });
    }
    definitions = next;
  };

  const touch = (ctx: ActorContext<SessionRequest>): void => {
    if (idle !== undefined) {
      idle.refresh();
      return;
    }
    idle = setTimeout(function check() {
      if (runs.size > 0) idle?.refresh();
      else ctx.stop();
    }, args.idleMs);
    idle.unref();
  };

  const rememberKey = (key: string, runId: string): void => {
    idempotency.set(key, runId);
    if (idempotency.size > MAX_IDEMPOTENCY_KEYS) idempotency.delete(idempotency.keys().next().value as string);
  };

  /**
   * A send with an idempotency key (a client's retry-safe send, a team's delivery to its lead) is
   * accepted only once the store worker has queued its message, with the key: told, as other
   * messages are, it leaves this worker on the next flush, and a worker killed before that would
   * lose a message whose sender was already told it was taken. The key in the stored message lets
   * the session that comes back in its place know the send (preStart), so a retry is no second message.
   */
  const sendOnceStored = async (
    msg: Extract<SessionRequest, { t: 'send' }>, key: string, persistence: NonNullable<SessionArgs['persistence']>, ctx: ActorContext<SessionRequest>,
  ): Promise<SendReply> => {
    const trace = currentContext();
    const m: StoredMessage = { role: 'user', content: msg.message, at: Date.now(), runId: msg.runId };
    const span = startChildSpan('store.append_message', SpanKind.INTERNAL, { 'troupe.tenant': args.tenant });
    try {
      await persistence.ask({
        t: 'append', tenant: args.tenant, sessionKey: args.sessionKey, agent: args.defaultAgent, message: { ...m, key }, ack: true,
      }, { timeoutMs: STORE_ACK_TIMEOUT_MS });
    } catch (err) {
      idempotency.delete(key);
      endSpan(span, err);
      throw err;
    }
    endSpan(span);
    return withContext(trace, () => startRun(msg, ctx, m));
  };

  const send = (msg: Extract<SessionRequest, { t: 'send' }>, ctx: ActorContext<SessionRequest>): SendReply | Promise<SendReply> => {
    const key = msg.idempotencyKey;
    const earlier = key === undefined ? undefined : idempotency.get(key);
    if (earlier !== undefined) return { runId: earlier, duplicate: true } satisfies SendReply;
    agentRef(ctx, current(msg.agent)); // an unknown agent fails the send before anything is kept
    if (key !== undefined) {
      rememberKey(key, msg.runId);
      if (args.persistence !== undefined) return sendOnceStored(msg, key, args.persistence, ctx);
    }
    remember({ role: 'user', content: msg.message, at: Date.now(), runId: msg.runId }, true);
    return startRun(msg, ctx);
  };

  /** Starts the send's run on its agent; `stored` is its user message, already with the store (else remembered here before). */
  const startRun = (msg: Extract<SessionRequest, { t: 'send' }>, ctx: ActorContext<SessionRequest>, stored?: StoredMessage): SendReply => {
    const ref = agentRef(ctx, current(msg.agent));
    if (stored !== undefined) keep(stored);
    const controller = new AbortController();
    runs.set(msg.runId, controller);
    ref.tell({
      t: 'run', runId: msg.runId, history: history.slice(), signal: controller.signal, session: ctx.self,
      tenant: args.tenant, sessionKey: args.sessionKey,
      ...(msg.conversation === undefined ? {} : { conversation: msg.conversation }),
      ...(msg.clientTools === undefined ? {} : { clientTools: msg.clientTools }),
      ...(msg.progress === undefined ? {} : { progress: msg.progress }),
    });
    return { runId: msg.runId, duplicate: false } satisfies SendReply;
  };

  return {
    async preStart(ctx) {
      touch(ctx);
      if (args.persistence === undefined) return;
      // Rehydrate: the session is busy (mail waits) until its history is back.
      const stored = (await args.persistence.ask({
        t: 'load', tenant: args.tenant, sessionKey: args.sessionKey, agent: args.defaultAgent, limit: args.historyLimit,
      }, { timeoutMs: 30_000 })) as StoredMessage[];
      // Handoffs are remembered in the history itself, so they survive passivation; so are the
      // idempotency keys of the sends it took (a key stays with the store, not in the history).
      for (const m of stored) {
        const h = m.role === 'assistant' ? HANDOFF_NOTE.exec(m.content) : null;
        if (h !== null) handedTo.set(h[1], h[2]);
        if (m.key !== undefined) {
          if (m.runId !== undefined) rememberKey(m.key, m.runId);
          delete m.key;
        }
        history.push(m);
      }
    },
    receive(msg, ctx) {
      touch(ctx);
      switch (msg.t) {
        case 'ping':
          return { pong: true, at: Date.now() };
        case 'send':
          // In the front door's context, carried by this ask: the user message's store write and the
          // agent's run (its invoke_agent span, the turn's span on this worker) are the front door span's children.
          return send(msg, ctx);
        case 'abort': {
          let aborted = 0;
          for (const [runId, controller] of runs) {
            if (msg.runId === undefined || msg.runId === runId) {
              controller.abort();
              aborted++;
            }
          }
          return { aborted: aborted > 0 };
        }
        case 'history':
          return { messages: history.slice(-Math.max(0, msg.limit)) };
        case 'handoff':
          if (definitions.some((a) => a.id === msg.to)) {
            handedTo.set(msg.from, msg.to);
            remember({ role: 'assistant', content: `[handoff ${msg.from} → ${msg.to}] ${msg.reason}`, at: Date.now() });
          }
          return undefined;
        case 'agents':
          redefine(msg.agents, msg.providers, msg.mcpServers);
          return undefined;
        case 'run-done':
          runs.delete(msg.runId);
          if (msg.text !== undefined) remember({ role: 'assistant', content: msg.text, at: Date.now(), runId: msg.runId });
          return undefined;
        default:
          return undefined;
      }
    },
    postStop() {
      clearTimeout(idle);
      for (const controller of runs.values()) controller.abort();
    },
  };
}
