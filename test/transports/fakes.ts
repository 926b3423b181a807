/**
 * Tiny stand-ins for what the front door gets injected: a backend that streams
 * N deltas then chat.final (abortable like the real agent: an aborted run ends
 * in chat.final with the text so far and stop reason `aborted`; optionally slow
 * or failing mid-stream), a map authenticator and
 * a token-bucket limiter. Tests tune the fake backend through its fields.
 */
import type { Authenticator, LimitKeys, Principal, RateDecision, ScopedLimiter } from '../../security/types.js';
import type { ChatEventMap, ChatSendParams, EventSink, GatewayBackend } from '../../transports/backend.js';
import { TroupeError } from '../../transports/errors.js';

export const TOKENS: Record<string, Principal> = {
  'tok-alice': { tenant: 'acme', user: 'alice', scopes: ['chat'], via: 'jwt' },
  'tok-bob': { tenant: 'acme', user: 'bob', scopes: ['chat'], via: 'jwt' },
  'tok-expired': { tenant: 'acme', user: 'old', scopes: [], via: 'jwt', expiresAt: 1 },
};

export function fakeAuthenticator(tokens: Record<string, Principal> = TOKENS): Authenticator {
  return {
    async authenticate(credential) {
      if (credential === 'tok-crash') throw new Error('JWKS endpoint unreachable');
      const p = Object.hasOwn(tokens, credential) ? tokens[credential] : undefined;
      if (p === undefined) throw new TroupeError('UNAUTHORIZED', 'Unknown token', { reason: 'bad_token' });
      return p;
    },
  };
}

/** Token bucket per combination of scope keys: `capacity` tokens, refilled at `perSecond`. */
export class TestBucket implements ScopedLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly capacity: number, private readonly perSecond: number) {}

  async take(keys: LimitKeys, cost = 1): Promise<RateDecision> {
    const key = `${keys.tenant ?? ''}|${keys.user ?? ''}|${keys.ip ?? ''}`;
    const now = Date.now();
    const b = this.buckets.get(key) ?? { tokens: this.capacity, at: now };
    b.tokens = Math.min(this.capacity, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= cost) {
      b.tokens -= cost;
      return { allowed: true, remaining: Math.floor(b.tokens), retryAfterMs: 0 };
    }
    return { allowed: false, remaining: 0, retryAfterMs: Math.ceil(((cost - b.tokens) / this.perSecond) * 1000) };
  }
}

export const unlimited = (): ScopedLimiter => new TestBucket(1e9, 1e9);

interface Run {
  runId: string;
  aborted: boolean;
}

export class FakeBackend implements GatewayBackend {
  deltaCount = 3;
  deltaText = 'tok ';
  /** Pause between deltas; 0 = as fast as the event loop allows. */
  delayMs = 0;
  /** Deltas emitted per event-loop turn (big values flood the transport). */
  burst = 1;
  isReady = true;
  /** Emit the first delta synchronously, before chatSend resolves (a race the transport must order). */
  emitBeforeAccept = false;
  /** Run the whole run (to chat.final) synchronously, before chatSend resolves. */
  finishBeforeAccept = false;
  /** After this many deltas the run fails with chat.error (UNAVAILABLE); undefined: never. */
  failAfterDeltas: number | undefined = undefined;
  /** Merged into every chat.final (e.g. a tool-call stop). */
  finalPatch: Partial<ChatEventMap['chat.final']> = {};
  readonly sent: { principal: Principal; params: ChatSendParams }[] = [];
  readonly aborts: string[] = [];
  private readonly runs = new Map<string, Run>();
  private nextRun = 1;

  async ping(_p: Principal, _sessionKey?: string): Promise<{ pong: true; at: number }> {
    return { pong: true, at: Date.now() };
  }

  async chatSend(principal: Principal, params: ChatSendParams, sink: EventSink): Promise<{ runId: string; sessionKey: string }> {
    if (params.agent === 'missing') throw new TroupeError('NOT_FOUND', `No agent "missing"`, { reason: 'unknown_agent' });
    if (params.agent === 'crash') throw new Error('secret internal detail /etc/passwd');
    this.sent.push({ principal, params });
    const run: Run = { runId: `run-${this.nextRun++}`, aborted: false };
    this.runs.set(run.runId, run);
    const sessionKey = params.sessionKey ?? `${principal.user}:main`;
    const { deltaCount, deltaText, delayMs, burst, failAfterDeltas } = this;
    let emitted = 0;
    const step = (): void => {
      if (run.aborted) {
        this.runs.delete(run.runId);
        sink('chat.final', { runId: run.runId, text: deltaText.repeat(emitted), stopReason: 'aborted' });
        return;
      }
      if (failAfterDeltas !== undefined && emitted >= failAfterDeltas) {
        this.runs.delete(run.runId);
        sink('chat.error', { runId: run.runId, error: { code: 'UNAVAILABLE', message: 'run failed', retryable: true } });
        return;
      }
      for (let i = 0; i < burst && emitted < deltaCount; i++, emitted++) sink('chat.delta', { runId: run.runId, delta: deltaText });
      if (emitted < deltaCount) {
        setTimeout(step, delayMs);
        return;
      }
      this.runs.delete(run.runId);
      sink('chat.final', {
        runId: run.runId,
        text: deltaText.repeat(deltaCount),
        usage: { inputTokens: params.message.length, outputTokens: deltaCount },
        stopReason: 'end_turn',
        ...this.finalPatch,
      });
    };
    if (this.emitBeforeAccept) sink('chat.delta', { runId: run.runId, delta: 'early ' });
    if (this.finishBeforeAccept) {
      this.burst = Math.max(burst, deltaCount);
      step();
      this.burst = burst;
    } else setTimeout(step, delayMs);
    return { runId: run.runId, sessionKey };
  }

  async chatAbort(_p: Principal, params: { runId?: string; sessionKey?: string }): Promise<{ aborted: boolean }> {
    const run = params.runId === undefined ? undefined : this.runs.get(params.runId);
    if (run === undefined) return { aborted: false };
    run.aborted = true;
    this.aborts.push(run.runId);
    return { aborted: true };
  }

  async chatHistory(_p: Principal, params: { sessionKey: string; limit?: number }): Promise<{ messages: unknown[] }> {
    return { messages: [{ role: 'user', content: `history of ${params.sessionKey}`, limit: params.limit ?? null }] };
  }

  async sessionsList(p: Principal): Promise<{ sessions: unknown[] }> {
    return { sessions: [{ key: `${p.user}:main` }] };
  }

  async agentsList(_p: Principal): Promise<{ agents: { id: string; description?: string }[] }> {
    return { agents: [{ id: 'echo', description: 'Echoes tokens' }, { id: 'helper' }] };
  }

  async health(): Promise<Record<string, unknown>> {
    return { actors: 'ok' };
  }

  ready(): boolean {
    return this.isReady;
  }
}
