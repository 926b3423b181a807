/**
 * One configured channel at run time: its adapter, its outbound queue and
 * limits, dedup, access control, commands and the runs it started. Inbound
 * messages from a webhook or a socket end here and become runs through the
 * injected `ChannelRunner` (the same start-a-run path as WS and HTTP).
 *
 *   message ─► dedup ─► group filter ─► command? ─► access ─► runner.start ─► ReplyStream ─► queue ─► adapter
 */
import { SpanKind, asyncContextOnThisThread, endSpan, inSpan, startSpan } from '../../observability/tracing.js';
import type { Principal } from '../../security/types.js';
import type { EventSink, RunProgress } from '../backend.js';
import {
  ChannelAuthError, type AdapterContext, type ChannelAdapter, type InboundMessage, type WebhookRequest, type WebhookResult,
} from './adapter.js';
import { AccessControl, type PairingStore } from './access.js';
import { HELP_TEXT, parseCommand } from './commands.js';
import type { ChannelSpec } from './config.js';
import type { Deduper } from './dedup.js';
import type { ChannelMetrics } from './metrics.js';
import { ChannelDeliveryError, OutboundQueue } from './outbound.js';
import { ReplyStream } from './reply_stream.js';

/** How a channel starts and stops runs: the chat-run contract, with the gateway's limits in front. */
export interface ChannelRunner {
  start(p: Principal, params: { sessionKey: string; agent?: string; message: string; idempotencyKey?: string; progress?: RunProgress }, sink: EventSink): Promise<{ runId: string }>;
  abort(p: Principal, sessionKey: string): Promise<boolean>;
}

export interface ChannelAuditEvent {
  actor: string;
  action: string;
  outcome: 'success' | 'failure' | 'denied';
  target?: string;
  detail?: Record<string, unknown>;
}

export type ChannelLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface ChannelDeps {
  runner: ChannelRunner;
  pairings: PairingStore;
  dedup: Deduper;
  metrics: ChannelMetrics;
  audit(tenant: string, event: ChannelAuditEvent): void;
  log: ChannelLog;
  /** Minimum time between two edits of a streamed reply. Default 1000 ms. */
  editIntervalMs?: number;
}

export type ChannelStatus = 'stopped' | 'starting' | 'up' | 'unhealthy';

/** Sessions remembered for /new and run bookkeeping (oldest forgotten first). */
const MAX_SESSIONS = 100_000;
/** Messages waiting behind a run in one session before new ones are refused. */
const MAX_WAITING_PER_SESSION = 8;

export class Channel {
  status: ChannelStatus = 'stopped';
  reason: string | undefined;
  readonly queue: OutboundQueue;
  readonly #abort = new AbortController();
  readonly #access: AccessControl;
  /** A session's current generation (`/new` starts the next one). */
  readonly #generation = new Map<string, string>();
  /** Per session: the run in flight and how many messages wait behind it. */
  readonly #sessions = new Map<string, { tail: Promise<void>; waiting: number; runId?: string }>();
  /**
   * The run events a reply reads: a streamed reply needs the text as it comes, one sent whole at the end
   * only the final answer. Tool events are never shown. Events not asked for are never produced (each is a thread hop).
   */
  readonly #progress: RunProgress;

  constructor(readonly spec: ChannelSpec, readonly adapter: ChannelAdapter, private readonly deps: ChannelDeps) {
    const { metrics } = deps;
    const labels = { channel: spec.id };
    this.#access = new AccessControl(spec, deps.pairings);
    this.#progress = adapter.limits.canEdit && adapter.edit !== undefined ? 'text' : 'none';
    this.queue = new OutboundQueue({
      perChatPerSecond: spec.rate?.perChatPerSecond ?? adapter.limits.perChatPerSecond,
      perBotPerSecond: spec.rate?.perBotPerSecond ?? adapter.limits.perBotPerSecond,
      signal: this.#abort.signal,
      onRetry: (op, reason, waitMs) => {
        metrics.retries.inc({ ...labels, reason });
        deps.log('info', 'channel call retried', { channel: spec.id, op, reason, waitMs });
      },
      onGiveUp: (op, chat, err) => {
        metrics.messages.inc({ ...labels, direction: 'out', outcome: err.reason === 'queue_full' ? 'dropped' : 'failed' });
        metrics.drops.inc({ ...labels, reason: err.reason });
        deps.log('warn', 'channel delivery failed', { channel: spec.id, op, chat, reason: err.reason, error: err.message });
        deps.audit(spec.tenant, {
          actor: `channel:${spec.id}`, action: 'channel.delivery', outcome: 'failure', target: chat,
          detail: { channel: spec.id, op, reason: err.reason, status: err.status, error: err.message },
        });
      },
    });
  }

  async start(): Promise<void> {
    // The platforms' SDKs put the turn's traceparent on their calls after awaits of their own (and replies
    // are sent after the run's awaits): this thread's context must follow awaits (observability/context_managers.ts).
    asyncContextOnThisThread();
    this.status = 'starting';
    const ctx: AdapterContext = {
      deliver: (messages) => this.deliver(messages),
      log: (level, msg, fields) => this.deps.log(level, msg, { channel: this.spec.id, ...fields }),
      signal: this.#abort.signal,
    };
    try {
      await this.adapter.start(ctx);
      this.status = 'up';
      this.reason = undefined;
    } catch (err) {
      this.status = 'unhealthy';
      this.reason = err instanceof ChannelAuthError ? `credentials rejected: ${err.message}` : `start failed: ${String((err as Error)?.message ?? err)}`;
      this.deps.log('error', 'channel unhealthy', { channel: this.spec.id, platform: this.spec.platform, reason: this.reason });
    }
    this.deps.metrics.up.set({ channel: this.spec.id, platform: this.spec.platform }, this.status === 'up' ? 1 : 0);
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    this.status = 'stopped';
    this.deps.metrics.up.set({ channel: this.spec.id, platform: this.spec.platform }, 0);
    await this.adapter.stop().catch((err: unknown) => this.deps.log('warn', 'channel adapter stop failed', { channel: this.spec.id, error: String(err) }));
  }

  health(): Record<string, unknown> {
    return { platform: this.spec.platform, status: this.status, ...(this.reason === undefined ? {} : { reason: this.reason }), queued: this.queue.queued };
  }

  /** Verifies and parses a webhook (throws WebhookRejected); the caller answers, then calls `deliver`. */
  async webhook(req: WebhookRequest): Promise<WebhookResult> {
    if (this.adapter.handleWebhook === undefined) return { status: 404, messages: [] };
    return this.adapter.handleWebhook(req);
  }

  /** Processes inbound messages asynchronously (never throws). */
  deliver(messages: readonly InboundMessage[]): void {
    for (const m of messages) {
      this.#receive(m).catch((err: unknown) => {
        this.count('failed');
        this.deps.log('error', 'channel message failed', { channel: this.spec.id, error: String(err) });
      });
    }
  }

  count(outcome: string, direction: 'in' | 'out' = 'in'): void {
    this.deps.metrics.messages.inc({ channel: this.spec.id, direction, outcome });
  }

  async #receive(m: InboundMessage): Promise<void> {
    if (!(await this.deps.dedup.firstSeen(`${this.spec.id}:${m.eventId}`))) {
      this.count('duplicate');
      return;
    }
    if (m.chatType === 'group' && !m.addressed && this.spec.groups.respond === 'mention') {
      this.count('ignored');
      return;
    }
    const base = `${this.spec.id}:${m.chatId}${m.threadId === undefined ? '' : `:${m.threadId}`}`;
    const audit = (action: string, outcome: ChannelAuditEvent['outcome'], detail: Record<string, unknown> = {}) =>
      this.deps.audit(this.spec.tenant, {
        actor: `${this.spec.id}:${m.userId}`, action, outcome, target: base,
        detail: { channel: this.spec.id, platform: this.spec.platform, chatType: m.chatType, eventId: m.eventId, ...detail },
      });
    const verdict = await this.#access.check(m.userId, m.chatType === 'direct', m.userName);
    if (verdict.kind === 'denied') {
      this.count('denied');
      audit('channel.message', 'denied', { reason: this.spec.access.mode });
      if (m.chatType === 'direct') await this.#say(m, 'Sorry, this assistant is private: you are not on its list of users.');
      return;
    }
    if (verdict.kind === 'pairing') {
      this.count('pairing');
      audit('channel.pairing.request', 'denied', { code: verdict.code });
      await this.#say(m, `This assistant is private. To ask its owner for access, send them this code: ${verdict.code}\n(they approve it with: troupe channels pair ${this.spec.id} ${verdict.code})`);
      return;
    }
    if (m.kind === 'unsupported') {
      this.count('unsupported');
      audit('channel.message', 'denied', { reason: 'unsupported' });
      await this.#say(m, 'Sorry, I can only read text messages for now: photos, voice, stickers and files are not supported yet.');
      return;
    }
    const p: Principal = { tenant: this.spec.tenant, user: `${this.spec.id}:${m.userId}`, scopes: ['chat'], via: 'channel' };
    const command = parseCommand(m.text);
    if (command !== undefined) {
      this.count('command');
      audit('channel.command', 'success', { command });
      if (command === 'help') await this.#say(m, HELP_TEXT);
      else if (command === 'stop') {
        const aborted = await this.deps.runner.abort(p, this.#sessionKey(base)).catch(() => false);
        await this.#say(m, aborted ? 'Stopped.' : 'Nothing to stop.');
      } else {
        this.#remember(this.#generation, base, Date.now().toString(36));
        await this.#say(m, 'Started a fresh conversation.');
      }
      return;
    }
    this.count('received');
    audit('channel.message', 'success', { chars: m.text.length });
    await this.#run(p, m, base);
  }

  /** Runs one message in its session, after the runs already waiting there (answers keep their order). */
  #run(p: Principal, m: InboundMessage, base: string): Promise<void> {
    const sessionKey = this.#sessionKey(base);
    let s = this.#sessions.get(sessionKey);
    if (s === undefined) {
      s = { tail: Promise.resolve(), waiting: 0 };
      this.#remember(this.#sessions, sessionKey, s);
    }
    if (s.waiting >= MAX_WAITING_PER_SESSION) {
      this.count('rate_limited');
      return this.#say(m, 'I am still answering your earlier messages; please wait a moment.');
    }
    const session = s;
    session.waiting++;
    const turn = session.tail.then(async () => {
      const reply = new ReplyStream(this.#output(m), this.deps.editIntervalMs);
      // "typing…" only while the user waits with nothing to read: a reply already out needs none (a platform call saved).
      if (this.adapter.typing !== undefined) {
        const typing = this.adapter.typing.bind(this.adapter);
        const timer = setTimeout(() => {
          if (reply.visible) return;
          void this.queue.hint(m.chatId, () => typing(m.chatId, m.threadId === undefined ? {} : { threadId: m.threadId }));
        }, reply.firstPostMs);
        void reply.done.then(() => clearTimeout(timer));
      }
      try {
        const { runId } = await this.deps.runner.start(p, {
          sessionKey, message: m.text, idempotencyKey: m.eventId, progress: this.#progress,
          ...(this.spec.agent === undefined ? {} : { agent: this.spec.agent }),
        }, reply.sink);
        session.runId = runId;
      } catch (err) {
        const e = err as { code?: string; message?: string; retryAfterMs?: number };
        if (e.code === 'RATE_LIMITED') this.count('rate_limited');
        else this.count('failed');
        reply.fail(refusal(e));
      }
      await reply.done;
      session.runId = undefined;
    }).finally(() => {
      session.waiting--;
    });
    session.tail = turn.catch(() => undefined);
    return turn;
  }

  #sessionKey(base: string): string {
    const gen = this.#generation.get(base);
    return gen === undefined ? base : `${base}#${gen}`;
  }

  #remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > MAX_SESSIONS) map.delete(map.keys().next().value as string);
  }

  #output(m: InboundMessage): ConstructorParameters<typeof ReplyStream>[0] {
    const { adapter, queue } = this;
    const thread = m.threadId === undefined ? {} : { threadId: m.threadId };
    const edit = adapter.edit?.bind(adapter);
    return {
      maxChars: adapter.limits.maxChars,
      canEdit: adapter.limits.canEdit && edit !== undefined,
      render: (md) => adapter.render(md),
      send: async (text) => {
        const started = Date.now();
        const sent = await this.#traced('send', () => queue.run(m.chatId, 'send', () => adapter.send(m.chatId, text, thread)));
        this.deps.metrics.sendSeconds.observe({ channel: this.spec.id, op: 'send' }, (Date.now() - started) / 1000);
        this.count('sent', 'out');
        return sent.messageId;
      },
      edit: async (messageId, text) => {
        if (edit === undefined) throw new ChannelDeliveryError('rejected', 'platform cannot edit');
        const started = Date.now();
        await this.#traced('edit', () => queue.run(m.chatId, 'edit', () => edit(m.chatId, messageId, text, thread)));
        this.deps.metrics.sendSeconds.observe({ channel: this.spec.id, op: 'edit' }, (Date.now() - started) / 1000);
        this.count('edited', 'out');
      },
    };
  }

  /** A platform call as a span of the turn's trace (queueing, limits and retries included); just the call with tracing off. */
  async #traced<T>(op: 'send' | 'edit', call: () => Promise<T>): Promise<T> {
    const span = startSpan(`channel.${op}`, SpanKind.CLIENT, { 'troupe.channel': this.spec.id, 'troupe.channel.platform': this.spec.platform });
    if (span === undefined) return call();
    try {
      const out = await inSpan(span, call);
      endSpan(span);
      return out;
    } catch (err) {
      endSpan(span, err);
      throw err;
    }
  }

  /** A short answer from the framework itself (help, pairing, refusals), rendered and split like a reply. */
  async #say(m: InboundMessage, text: string): Promise<void> {
    const reply = new ReplyStream(this.#output(m), this.deps.editIntervalMs);
    reply.fail(text);
    await reply.done;
  }
}

/** What the user reads when a run is refused before it starts. */
function refusal(e: { code?: string; message?: string; retryAfterMs?: number }): string {
  switch (e.code) {
    case 'RATE_LIMITED':
      return `You are sending messages too fast; please try again in ${Math.ceil((e.retryAfterMs ?? 1000) / 1000)} s.`;
    case 'BUDGET_EXCEEDED':
      // The budget's message names the budget and when it resets, and holds no secret.
      return `Sorry, I could not answer (BUDGET_EXCEEDED): ${e.message ?? 'the usage budget is used up'}.`;
    default:
      return `Sorry, I could not answer (${e.code ?? 'INTERNAL'}).`;
  }
}
