/**
 * How the team coordinator reaches a lead: a chat turn in the lead's session,
 * through the same backend call a client's chat.send makes. The message is in
 * the session's history once chatSend resolves; `ended` fires when the lead's
 * turn finishes (or fails), so the coordinator sends one turn at a time.
 */
import type { ActorBackend } from '../actors/backend.js';
import type { LeadPort } from '../actors/team/coordinator.js';

export function leadPort(backend: () => ActorBackend | undefined): LeadPort {
  const caller = (tenant: string): { tenant: string; user: string; scopes: string[] } => ({ tenant, user: 'team-coordinator', scopes: ['chat'] });
  return {
    async send(tenant, sessionKey, agent, message, ended, key) {
      const b = backend();
      if (b === undefined) throw Object.assign(new Error('the gateway is starting'), { code: 'UNAVAILABLE' });
      return b.chatSend(caller(tenant), { sessionKey, agent, message, progress: 'none', idempotencyKey: key }, (event) => {
        if (event === 'chat.final' || event === 'chat.error') ended();
      });
    },
    async abort(tenant, sessionKey, runId) {
      await backend()?.chatAbort(caller(tenant), { runId, sessionKey });
    },
  };
}
