/**
 * The session actor: one per (tenant, session key), on the worker its key
 * hashes to. It owns the conversation history, starts runs on its agent
 * children, aborts them, and passivates (stops, freeing its memory) after
 * `idleMs` without traffic; the backend spawns it again on demand.
 */
import type { ActorContext, ActorRef, Behavior } from '../runtime/index.js';
import { SpanKind, endSpan, inSpan, startSpan } from '../observability/tracing.js';
import { agent, type AgentRun } from './agent.js';
import type { SendReply, SessionArgs, SessionRequest, StoredMessage } from './protocol.js';

/** Idempotency keys remembered per session (oldest forgotten first). */
const MAX_IDEMPOTENCY_KEYS = 256;
const HANDOFF_NOTE = /^\[handoff (\S+) → (\S+)\]/;

export function session(args: SessionArgs): Behavior<SessionRequest> {
  const history: StoredMessage[] = [];
  const runs = new Map<string, AbortController>();
  const idempotency = new Map<string, string>();
  const agents = new Map<string, ActorRef<AgentRun>>();
  /** Handoffs: turns for the key's agent go to the value's (followed to the end of the chain). */
  const handedTo = new Map<string, string>();
  const current = (id: string): string => {
    let at = id;
    for (let hops = 0; hops < 16 && handedTo.has(at); hops++) at = handedTo.get(at) as string;
    return at;
  };
  let idle: NodeJS.Timeout | undefined;

  const remember = (m: StoredMessage): void => {
    args.persistence?.tell({ t: 'append', tenant: args.tenant, sessionKey: args.sessionKey, agent: args.defaultAgent, message: m });
    history.push(m);
    if (history.length > args.historyLimit) history.splice(0, history.length - args.historyLimit);
  };

  const agentRef = (ctx: ActorContext<SessionRequest>, id: string): ActorRef<AgentRun> => {
    let ref = agents.get(id);
    if (ref === undefined) {
      const config = args.agents.find((a) => a.id === id);
      if (config === undefined) throw new Error(`unknown agent ${id}`);
      ref = ctx.spawn<AgentRun>({
        factory: agent, args: { config, router: args.router, directory: args.directory, audit: args.ephemeral ? undefined : args.persistence, team: args.team },
      }, { restart: 'permanent' });
      agents.set(id, ref);
    }
    return ref;
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

  const send = (msg: Extract<SessionRequest, { t: 'send' }>, ctx: ActorContext<SessionRequest>): SendReply => {
    if (msg.idempotencyKey !== undefined) {
      const earlier = idempotency.get(msg.idempotencyKey);
      if (earlier !== undefined) return { runId: earlier, duplicate: true } satisfies SendReply;
      idempotency.set(msg.idempotencyKey, msg.runId);
      if (idempotency.size > MAX_IDEMPOTENCY_KEYS) idempotency.delete(idempotency.keys().next().value as string);
    }
    const ref = agentRef(ctx, current(msg.agent));
    remember({ role: 'user', content: msg.message, at: Date.now(), runId: msg.runId });
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
      history.push(...stored);
      // Handoffs are remembered in the history itself, so they survive passivation.
      for (const m of stored) {
        const h = m.role === 'assistant' ? HANDOFF_NOTE.exec(m.content) : null;
        if (h !== null) handedTo.set(h[1], h[2]);
      }
    },
    receive(msg, ctx) {
      touch(ctx);
      switch (msg.t) {
        case 'ping':
          return { pong: true, at: Date.now() };
        case 'send': {
          // The session's part of the turn, on its worker: the store write and the agent's run are its children.
          const span = startSpan('session.send', SpanKind.INTERNAL, { 'troupe.tenant': args.tenant, 'troupe.session_key': args.sessionKey, 'troupe.run_id': msg.runId });
          try {
            return inSpan(span, () => send(msg, ctx));
          } finally {
            endSpan(span);
          }
        }
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
          if (args.agents.some((a) => a.id === msg.to)) {
            handedTo.set(msg.from, msg.to);
            remember({ role: 'assistant', content: `[handoff ${msg.from} → ${msg.to}] ${msg.reason}`, at: Date.now() });
          }
          return undefined;
        case 'run-done':
          runs.delete(msg.runId);
          if (msg.text !== undefined) remember({ role: 'assistant', content: msg.text, at: Date.now(), runId: msg.runId });
          if (args.ephemeral && runs.size === 0) ctx.stop();
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
