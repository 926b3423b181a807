/**
 * The member and reviewer behaviour: one actor per task attempt, placed on a
 * worker. It runs its agent on the task's prompt, beats the lease while the run
 * lasts, and tells the coordinator how the attempt ended. If its worker dies,
 * the beats stop, the lease expires and the coordinator hands the task out
 * again; the actor is temporary, so it is never re-created half-way.
 */
import { randomUUID } from 'node:crypto';
import type { ActorRef, Behavior } from '../../runtime/index.js';
import { agent, type AgentRun, type RunResult } from '../agent.js';
import type { PersistRequest } from '../persistence.js';
import type { AgentConfig, TenantMcpServers, TenantProviders } from '../protocol.js';
import type { AttemptOutcome, TeamJob, TeamRequest } from './protocol.js';

const UNFINISHED = new Set(['aborted', 'loop_detected', 'max_iterations', 'handoff', 'tool_calls']);

export interface TeamWorkerArgs {
  job: TeamJob;
  /** The agent's definition when the attempt was handed out (the tenant's, from the store in the gateway). */
  config: AgentConfig;
  /** The tenant's own providers, which the definition's chain may name. */
  providers?: TenantProviders;
  coordinator: ActorRef<TeamRequest>;
  audit?: ActorRef<PersistRequest>;
  /** The tenant's own MCP servers, whose tools the agent is offered; absent: the worker's tools only. */
  mcpServers?: TenantMcpServers;
}

export function teamWorker(args: TeamWorkerArgs): Behavior<'abort'> {
  const { job, config, coordinator } = args;
  const controller = new AbortController();
  let beat: NodeJS.Timeout | undefined;
  return {
    preStart(ctx) {
      const owned = { ...(args.providers === undefined ? {} : { providers: args.providers }), ...(args.mcpServers === undefined ? {} : { mcpServers: args.mcpServers }) };
      const child = ctx.spawn<AgentRun>({ factory: agent, args: { config, audit: args.audit, team: coordinator, ...owned } }, { restart: 'temporary' });
      const tell = (): void => coordinator.tell({ t: 'heartbeat', tenant: job.tenant, attempt: job.lease.token });
      beat = setInterval(tell, Math.max(10, Math.floor(job.leaseMs / 3)));
      void (async () => {
        let outcome: AttemptOutcome;
        try {
          const result = (await child.ask({
            t: 'run', runId: randomUUID(), history: [{ role: 'user', content: job.prompt, at: Date.now() }], signal: controller.signal,
            tenant: job.tenant, sessionKey: `team:${job.teamId}:${job.taskId}`, chain: job.chain,
            team: { role: job.role, teamId: job.teamId, taskId: job.taskId, lease: job.lease, attempt: job.lease.token },
          }, { timeoutMs: job.timeoutMs })) as RunResult | undefined;
          const tokens = result === undefined ? 0 : result.usage.inputTokens + result.usage.outputTokens;
          const spent = result === undefined ? {} : {
            usage: result.usage, ...(result.provider === undefined ? {} : { provider: result.provider, model: result.model }),
          };
          // A run the loop guard or the iteration limit stopped produced no result: the attempt failed.
          outcome = result === undefined || UNFINISHED.has(result.stopReason)
            ? { ok: false, error: result === undefined ? `agent ${config.id} failed` : `the run ended with ${result.stopReason}`, tokens, ...spent }
            : { ok: true, text: result.text, tokens, stopReason: result.stopReason, ...spent };
        } catch (err) {
          controller.abort();
          outcome = { ok: false, error: (err as Error).message ?? String(err), tokens: 0 };
        }
        clearInterval(beat);
        coordinator.tell({ t: 'attempt-done', job, outcome });
        ctx.stop();
      })();
    },
    receive(msg) {
      if (msg === 'abort') controller.abort();
    },
    postStop() {
      clearInterval(beat);
      controller.abort();
    },
  };
}
