/**
 * The agent actor (minimal for now): for each run it streams one reply from its
 * provider and tells the router every delta, then `chat.final` or
 * `chat.error`. One run at a time per agent, in arrival order.
 */
import { ProviderError, createProvider, type ChatMessage, type Provider } from '../providers/index.js';
import type { ActorRef, Behavior } from '../runtime/index.js';
import type { AgentConfig, RunEvent, SessionRequest, StoredMessage, Usage } from './protocol.js';

export interface AgentRun {
  t: 'run';
  runId: string;
  history: StoredMessage[];
  /** Same-thread only: the session aborts the run through it. */
  signal: AbortSignal;
  session: ActorRef<SessionRequest>;
}

export function agent(args: { config: AgentConfig; router: ActorRef<RunEvent> }): Behavior<AgentRun> {
  const { config, router } = args;
  let provider: Provider | undefined;
  return {
    async receive(run) {
      const { runId, signal } = run;
      let text = '';
      let usage: Usage | undefined;
      let stopReason: string | undefined;
      try {
        provider ??= createProvider(config.provider);
        const messages: ChatMessage[] = [];
        if (config.systemPrompt) messages.push({ role: 'system', content: config.systemPrompt });
        for (const m of run.history) messages.push({ role: m.role, content: m.content });
        for await (const ev of provider.stream({ model: config.model, messages, signal })) {
          if (ev.type === 'text') {
            text += ev.delta;
            router.tell([runId, 'chat.delta', { runId, delta: ev.delta }]);
          } else if (ev.type === 'usage') {
            usage = { inputTokens: ev.inputTokens, outputTokens: ev.outputTokens };
          } else if (ev.type === 'stop') {
            stopReason = ev.reason;
          }
        }
        router.tell([runId, 'chat.final', { runId, text, usage, stopReason }]);
        run.session.tell({ t: 'run-done', runId, text });
      } catch (err) {
        if (signal.aborted) {
          router.tell([runId, 'chat.final', { runId, text, usage, stopReason: 'aborted' }]);
          run.session.tell({ t: 'run-done', runId, text: text.length > 0 ? text : undefined });
          return;
        }
        router.tell([runId, 'chat.error', { runId, error: wireError(err) }]);
        run.session.tell({ t: 'run-done', runId });
      }
    },
  };
}

function wireError(err: unknown): { code: string; message: string; retryable: boolean; retryAfterMs?: number } {
  if (err instanceof ProviderError) {
    return { code: err.code, message: err.message, retryable: err.retryable, ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }) };
  }
  const e = err as { code?: unknown; message?: unknown; retryable?: unknown };
  return {
    code: typeof e?.code === 'string' ? e.code : 'INTERNAL',
    message: typeof e?.message === 'string' ? e.message : 'the agent failed',
    retryable: e?.retryable === true,
  };
}
