/**
 * How the team coordinator reaches a lead: a chat turn in the lead's session,
 * through the same backend call a client's chat.send makes. The message is in
 * the session's history once chatSend resolves; `ended` fires when the lead's
 * turn finishes (or fails), so the coordinator sends one turn at a time. The
 * turn's usage goes to `onRunEnd`, as a client's run's does.
 */
import type { ActorBackend } from '../actors/backend.js';
import type { LeadPort } from '../actors/team/coordinator.js';
import { runEndOf, type ChatEventMap, type RunEnd } from '../actors/chat_contract.js';

export function leadPort(backend: () => ActorBackend | undefined, onRunEnd?: (end: RunEnd) => void): LeadPort {
  const caller = (tenant: string): { tenant: string; user: string; scopes: string[] } => ({ tenant, user: 'team-coordinator', scopes: ['chat'] });
  return {
    async send(tenant, sessionKey, agent, message, ended, key) {
      const b = backend();
      if (b === undefined) throw Object.assign(new Error('the gateway is starting'), { code: 'UNAVAILABLE' });
      const startedAt = performance.now();
      return b.chatSend(caller(tenant), { sessionKey, agent, message, progress: 'none', idempotencyKey: key }, (event, payload) => {
        if (event !== 'chat.final' && event !== 'chat.error') return;
        // The lead's turn is a run like a client's: its usage is recorded too.
        onRunEnd?.(runEndOf(caller(tenant), agent, startedAt, event, payload as ChatEventMap['chat.final' | 'chat.error'], sessionKey));
        ended();
      });
    },
    async abort(tenant, sessionKey, runId) {
      await backend()?.chatAbort(caller(tenant), { runId, sessionKey });
    },
  };
}
