/**
 * The persistence actor: the bridge between session actors (on workers) and
 * the store, run inside the store host (actors/store_host.ts) on the store
 * worker, the one owner of the database. Sessions ask it for their history when they start
 * (rehydration) and tell it each new message; it hands messages, audit events
 * and usage rows to write-behind queues, so no database write sits on a chat
 * turn's path. Close flushes every queue (graceful shutdown loses nothing).
 *
 * Loads run concurrently (deferred replies): they are independent reads.
 */
import { SpanKind, endSpan, startChildSpan, type Span } from '../observability/tracing.js';
import type { ActorContext, Behavior } from '../runtime/index.js';
import { MessageWriter, WriteBehindQueue, type AuditEvent, type Store, type TenantScope, type UsageEvent } from '../store/index.js';
import { scrub, scrubObject } from '../security/scrub.js';
import type { StoredMessage } from './protocol.js';

export type PersistRequest =
  | { t: 'load'; tenant: string; sessionKey: string; agent: string; limit: number }
  /**
   * A history message for the write-behind queue. With `ack`, the reply comes
   * once it is queued (true), or is an error if it was refused: a send with an
   * idempotency key is accepted only then (actors/session.ts).
   */
  | { t: 'append'; tenant: string; sessionKey: string; agent: string; message: StoredMessage; ack?: boolean }
  | { t: 'audit'; tenant: string; event: AuditEvent }
  | { t: 'usage'; tenant: string; event: UsageEvent }
  /** Creates the tenant's row if it has none (replies once it exists). */
  | { t: 'ensure-tenant'; tenant: string }
  | { t: 'memory-save'; tenant: string; namespace: string; text: string; tags: string[] }
  | { t: 'memory-search'; tenant: string; namespaces: string[]; query: string; limit: number };

/** A note as the memory tools see it (tools/builtin/memory_store.ts MemoryRecord). */
export interface MemoryNote {
  id: string;
  text: string;
  tags: string[];
  namespace: string;
  createdAt: number;
  score?: number;
}

export interface PersistenceStats {
  messagesQueued: number;
  messagesRefused: number;
  auditQueued: number;
  auditRefused: number;
  usageQueued: number;
  usageRefused: number;
  loadFailures: number;
}

const MAX_CACHED_SESSIONS = 100_000;
const MAX_LOAD_PAGES = 50;

export class Persistence {
  readonly writer: MessageWriter;
  readonly audit: WriteBehindQueue<{ tenant: string; event: AuditEvent }>;
  /** Usage rows of finished runs (gateway/usage_recorder.ts), batched per tenant like the audit. */
  readonly usage: WriteBehindQueue<{ tenant: string; event: UsageEvent }>;
  readonly stats: PersistenceStats = {
    messagesQueued: 0, messagesRefused: 0, auditQueued: 0, auditRefused: 0, usageQueued: 0, usageRefused: 0, loadFailures: 0,
  };
  private readonly sessionIds = new Map<string, Promise<string>>();
  /** The same ids once opened, so a turn's appends queue at once, with no promise each. */
  private readonly openSessions = new Map<string, string>();
  /** Per session, appends still waiting for its id: later ones wait behind them, so order holds. */
  private readonly waiting = new Map<string, number>();
  private readonly tenants = new Map<string, Promise<void>>();
  /** Appends still waiting for their session id; close() waits for them. */
  private readonly opening = new Set<Promise<unknown>>();

  constructor(
    readonly store: Store,
    private readonly log: (msg: string, err: unknown) => void = () => undefined,
    options: { maxQueued?: number } = {},
  ) {
    const maxItems = options.maxQueued ?? 100_000;
    this.writer = store.messageWriter({ maxItems, batchSize: 500, flushIntervalMs: 50 });
    this.audit = this.perTenantQueue('audit', maxItems, 100, (s, events) => s.audit.appendMany(events));
    this.usage = this.perTenantQueue('usage', maxItems, 200, (s, events) => s.usage.appendMany(events));
  }

  /** A write-behind queue whose batches are split by tenant, each part written in that tenant's scope. */
  private perTenantQueue<E>(
    what: string, maxItems: number, flushIntervalMs: number, write: (scope: TenantScope, events: E[]) => Promise<unknown>,
  ): WriteBehindQueue<{ tenant: string; event: E }> {
    return new WriteBehindQueue({
      maxItems,
      batchSize: 500,
      flushIntervalMs,
      write: async (batch) => {
        const byTenant = new Map<string, E[]>();
        for (const { tenant, event } of batch) {
          const list = byTenant.get(tenant);
          if (list === undefined) byTenant.set(tenant, [event]);
          else list.push(event);
        }
        for (const [tenant, events] of byTenant) {
          await this.ensureTenant(tenant);
          await this.store.withTenant(tenant, (s) => write(s, events));
        }
      },
      onError: (err) => this.log(`${what} write failed`, err),
    });
  }

  /** Records an audit event (write-behind). False when the queue is full (counted). */
  recordAudit(tenant: string, event: AuditEvent): boolean {
    // Audit rows never carry credentials: target and detail are scrubbed on the way in.
    const clean: AuditEvent = {
      ...event,
      at: event.at ?? new Date(),
      ...(event.target === undefined ? {} : { target: scrub(event.target) }),
      ...(event.detail === undefined ? {} : { detail: scrubObject(event.detail) as Record<string, unknown> }),
    };
    const ok = this.audit.enqueue({ tenant, event: clean });
    if (ok) this.stats.auditQueued++;
    else this.stats.auditRefused++;
    return ok;
  }

  /** Records one finished run's usage (write-behind). False when the queue is full (counted). */
  recordUsage(tenant: string, event: UsageEvent): boolean {
    // The row is the turn's record; its session key is the client's text, scrubbed as the audit's target was.
    const clean = event.sessionKey === undefined ? event : { ...event, sessionKey: scrub(event.sessionKey).slice(0, 512) };
    const ok = this.usage.enqueue({ tenant, event: clean });
    if (ok) this.stats.usageQueued++;
    else this.stats.usageRefused++;
    return ok;
  }

  ensureTenant(tenant: string): Promise<void> {
    let p = this.tenants.get(tenant);
    if (p === undefined) {
      p = (async () => {
        if ((await this.store.tenants.get(tenant)) === null) {
          await this.store.tenants.create({ id: tenant, name: tenant }).catch(async (err: unknown) => {
            // Another process may have created it meanwhile.
            if ((await this.store.tenants.get(tenant)) === null) throw err;
          });
        }
      })();
      p.catch(() => this.tenants.delete(tenant));
      this.tenants.set(tenant, p);
    }
    return p;
  }

  sessionId(tenant: string, sessionKey: string, agent: string): Promise<string> {
    const k = `${tenant}\u0000${sessionKey}`;
    let p = this.sessionIds.get(k);
    if (p === undefined) {
      const opened = this.ensureTenant(tenant).then(() => this.store.withTenant(tenant, async (s) => (await s.sessions.open({ key: sessionKey, agentId: agent })).id));
      p = opened;
      opened.then((id) => {
        if (this.sessionIds.get(k) === opened) this.openSessions.set(k, id);
      }, () => this.sessionIds.delete(k));
      if (this.sessionIds.size >= MAX_CACHED_SESSIONS) {
        const oldest = this.sessionIds.keys().next().value as string;
        this.sessionIds.delete(oldest);
        this.openSessions.delete(oldest);
      }
      this.sessionIds.set(k, p);
    }
    return p;
  }

  /** The newest `limit` messages of a session, oldest first. */
  async load(tenant: string, sessionKey: string, agent: string, limit: number): Promise<StoredMessage[]> {
    const sid = await this.sessionId(tenant, sessionKey, agent);
    return this.store.withTenant(tenant, async (s) => {
      const out: StoredMessage[] = [];
      let after: string | undefined;
      for (let page = 0; page < MAX_LOAD_PAGES; page++) {
        const res = await s.messages.list(sid, { limit: 500, ...(after === undefined ? {} : { after }) });
        for (const m of res.items) {
          if (m.role !== 'user' && m.role !== 'assistant') continue;
          const message: StoredMessage = { role: m.role, content: m.content, at: m.createdAt.getTime() };
          if (typeof m.meta?.runId === 'string') message.runId = m.meta.runId;
          if (m.role === 'user' && typeof m.meta?.key === 'string') message.key = m.meta.key;
          out.push(message);
        }
        if (out.length > limit) out.splice(0, out.length - limit);
        if (res.nextCursor === null) break;
        after = res.nextCursor;
      }
      return out;
    });
  }

  /** Queues a history message for writing: whether it was queued (false: refused and counted), at once or once its session is open. */
  append(tenant: string, sessionKey: string, agent: string, message: StoredMessage): boolean | Promise<boolean> {
    const k = `${tenant}\u0000${sessionKey}`;
    const known = this.openSessions.get(k);
    // Straight to the queue once the session is open and none of its earlier messages still waits for it.
    if (known !== undefined && !this.waiting.has(k)) return this.queueMessage(tenant, known, message);
    this.waiting.set(k, (this.waiting.get(k) ?? 0) + 1);
    const settle = () => {
      const n = (this.waiting.get(k) ?? 1) - 1;
      if (n > 0) this.waiting.set(k, n);
      else this.waiting.delete(k);
    };
    const done = this.sessionId(tenant, sessionKey, agent).then((sessionId) => {
      settle();
      return this.queueMessage(tenant, sessionId, message);
    }, (err: unknown) => {
      settle();
      this.stats.messagesRefused++;
      this.log('could not open the session to persist a message', err);
      return false;
    });
    this.opening.add(done);
    void done.finally(() => this.opening.delete(done));
    return done;
  }

  private queueMessage(tenant: string, sessionId: string, message: StoredMessage): boolean {
    let ok = false;
    try {
      ok = this.writer.append({
        tenantId: tenant, sessionId, role: message.role, content: message.content,
        ...(message.runId === undefined ? {} : { meta: message.key === undefined ? { runId: message.runId } : { runId: message.runId, key: message.key } }),
      });
    } catch (err) {
      this.log('a history message was refused', err);
    }
    if (ok) this.stats.messagesQueued++;
    else this.stats.messagesRefused++;
    return ok;
  }

  /** Saves a note in one namespace (scope) of the tenant's vector memory (the memory_save tool). */
  async memorySave(tenant: string, namespace: string, text: string, tags: string[]): Promise<MemoryNote> {
    await this.ensureTenant(tenant);
    const item = await this.store.rememberFor(tenant, { content: text, namespace, metadata: { tags } });
    return { id: item.id, text: item.content, tags, namespace: item.namespace, createdAt: item.createdAt.getTime() };
  }

  /** Hybrid (full-text + vector) search over the namespaces the caller can see (the memory_search tool). */
  async memorySearch(tenant: string, namespaces: string[], query: string, limit: number): Promise<MemoryNote[]> {
    await this.ensureTenant(tenant);
    const hits = await this.store.recallFor(tenant, query, { namespaces, limit });
    return hits.map((h) => {
      const meta = (h.metadata ?? {}) as { tags?: unknown };
      return {
        id: h.id, text: h.content, score: h.score, createdAt: h.createdAt.getTime(), namespace: h.namespace,
        tags: Array.isArray(meta.tags) ? meta.tags.filter((x): x is string => typeof x === 'string') : [],
      };
    });
  }

  /** History messages accepted and not yet written: waiting for their session id, or queued. */
  get backlog(): number {
    return this.opening.size + this.writer.queue.size;
  }

  /** Writes everything queued so far; rejects (UNAVAILABLE) if some of it could not be written. */
  async flush(): Promise<void> {
    await Promise.all([...this.opening]);
    await Promise.all([this.writer.flush(), this.audit.flush(), this.usage.flush()]);
  }

  /** Flushes every queue (graceful shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.opening]);
    await Promise.all([this.writer.close(), this.audit.close(), this.usage.close()]);
  }
}

/** A history message the store could not queue (its queue is full, or its session could not be opened). */
function refused(): Error {
  return Object.assign(new Error('the store did not take the message; retry'), { code: 'UNAVAILABLE' });
}

/** A store write's span, in the trace of the message that asked for it (none for a message that carried no trace). */
function storeSpan(name: string, tenant: string): Span | undefined {
  return startChildSpan(name, SpanKind.INTERNAL, { 'troupe.tenant': tenant });
}

/** The actor in front of Persistence; sessions on any thread talk to it. */
export function persistenceActor(args: { persistence: Persistence }): Behavior<PersistRequest> {
  const p = args.persistence;
  return {
    receive(msg, ctx: ActorContext<PersistRequest>) {
      switch (msg.t) {
        case 'load': {
          const reply = ctx.deferReply();
          p.load(msg.tenant, msg.sessionKey, msg.agent, msg.limit).then((m) => reply?.resolve(m), (err: unknown) => {
            p.stats.loadFailures++;
            reply?.reject(err);
          });
          return undefined;
        }
        case 'append': {
          // No span here: the session records the turn's store.append_message as it hands the message over
          // (actors/session.ts); the write-behind queue takes it, the batch is written later.
          const queued = p.append(msg.tenant, msg.sessionKey, msg.agent, msg.message);
          if (msg.ack !== true) return undefined;
          if (queued === true) return true;
          if (queued === false) throw refused();
          const reply = ctx.deferReply();
          queued.then((ok) => (ok ? reply?.resolve(true) : reply?.reject(refused())), (err: unknown) => reply?.reject(err));
          return undefined;
        }
        case 'audit': {
          const span = storeSpan('store.audit', msg.tenant);
          p.recordAudit(msg.tenant, msg.event);
          endSpan(span);
          return undefined;
        }
        case 'usage':
          // No span: the row is sent untraced (gateway/store_client.ts); the queue takes it, and its batch is written later.
          p.recordUsage(msg.tenant, msg.event);
          return undefined;
        case 'ensure-tenant':
          return p.ensureTenant(msg.tenant).then(() => true);
        case 'memory-save':
        case 'memory-search': {
          const reply = ctx.deferReply();
          const span = msg.t === 'memory-save' ? storeSpan('store.memory_save', msg.tenant) : undefined;
          const work = msg.t === 'memory-save'
            ? p.memorySave(msg.tenant, msg.namespace, msg.text, msg.tags)
            : p.memorySearch(msg.tenant, msg.namespaces, msg.query, msg.limit);
          work.then((v) => {
            endSpan(span);
            reply?.resolve(v);
          }, (err: unknown) => {
            endSpan(span, err);
            reply?.reject(err);
          });
          return undefined;
        }
        default:
          return undefined;
      }
    },
  };
}
