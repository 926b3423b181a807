/**
 * The stateless runner: one per worker, for runs that need no session. A
 * stateless request (OpenAI-compatible HTTP without a session key: the client
 * sends the whole conversation) used to spawn a one-off session actor and an
 * agent actor, run one turn and stop both: a spawn frame, a watch, an ask, a
 * stop and a `Terminated` across threads per request. Here it is one ask:
 *
 *   backend (main) ──ask {run}──► runner (worker k) ─┬─ turn of agent A ──tell──► router (main)
 *                                                    ├─ turn of agent A
 *                                                    └─ turn of agent B
 *
 * Turns run side by side (each is `agentTurns`' function, agent.ts: the same
 * loop, limits, tools, tracing and events as an agent actor's). Each run
 * carries its agent's definition, as the backend read it for the tenant (the
 * tenant's agents may change at any time; the run keeps the one it began with). A stateless
 * turn is neither persisted nor audited per tool call, as its one-off session
 * was not; the front door still records its usage row, which is the turn's
 * record. `abort` aborts one run; stopping the runner (its
 * worker going down) aborts them all.
 */
import { currentContext, withContext } from '../observability/tracing.js';
import type { ChatMessage, ToolSpec } from '../providers/index.js';
import type { ActorContext, ActorRef, Behavior } from '../runtime/index.js';
import type { agentTurns as AgentTurns } from './agent.js';
import type { RunProgress } from './chat_contract.js';
import type { AgentConfig, DirectoryRequest, RunEvent, StoredMessage, TenantMcpServers, TenantProviders } from './protocol.js';
import type { TeamRequest } from './team/protocol.js';

export type RunnerRequest =
  | {
    t: 'run'; runId: string; agent: AgentConfig; message: string; tenant: string; sessionKey: string;
    /** The tenant's own providers (and where their keys come from), as for a session's agents. */
    providers?: TenantProviders;
    /** The tenant's own MCP servers, as for a session's agents. */
    mcpServers?: TenantMcpServers;
    conversation?: ChatMessage[]; clientTools?: ToolSpec[]; progress?: RunProgress;
  }
  | { t: 'abort'; runId: string };

export interface RunnerArgs {
  router: ActorRef<RunEvent>;
  directory?: ActorRef<DirectoryRequest>;
  team?: ActorRef<TeamRequest>;
}

export type RunnerReply = { accepted: true } | { aborted: boolean };

export function statelessRunner(args: RunnerArgs): Behavior<RunnerRequest> {
  const runs = new Map<string, AbortController>();
  // The agent module (and the provider SDKs behind it) loads with the first run, as a
  // session's did, not at worker start: a worker busy evaluating it misses heartbeats.
  let agentTurns: typeof AgentTurns | undefined;
  let loading: Promise<typeof AgentTurns> | undefined;

  const start = (msg: Extract<RunnerRequest, { t: 'run' }>, ctx: ActorContext<RunnerRequest>, turns: typeof AgentTurns): RunnerReply => {
    // In the front door's context, carried by this ask: the agent's run (its invoke_agent span) is the front door span's child.
    // Its model caller is made per run from the definition; provider clients are shared per worker (agent.ts).
    const turn = turns({
      config: msg.agent, router: args.router, directory: args.directory, team: args.team,
      ...(msg.providers === undefined ? {} : { providers: msg.providers }), ...(msg.mcpServers === undefined ? {} : { mcpServers: msg.mcpServers }),
    });
    const controller = new AbortController();
    runs.set(msg.runId, controller);
    const history: StoredMessage[] = [{ role: 'user', content: msg.message, at: Date.now(), runId: msg.runId }];
    // Not awaited: the runner takes its next request while this turn runs. A turn
    // reports its own failures as chat.error; nothing is left to catch but a bug.
    turn({
      t: 'run', runId: msg.runId, history, signal: controller.signal, tenant: msg.tenant, sessionKey: msg.sessionKey,
      ...(msg.conversation === undefined ? {} : { conversation: msg.conversation }),
      ...(msg.clientTools === undefined ? {} : { clientTools: msg.clientTools }),
      ...(msg.progress === undefined ? {} : { progress: msg.progress }),
    }, ctx).catch(() => undefined).finally(() => runs.delete(msg.runId));
    return { accepted: true };
  };

  return {
    receive(msg, ctx): RunnerReply | Promise<RunnerReply> {
      if (msg.t === 'abort') {
        const controller = runs.get(msg.runId);
        controller?.abort();
        return { aborted: controller !== undefined };
      }
      if (agentTurns !== undefined) return start(msg, ctx, agentTurns);
      loading ??= import('./agent.js').then((m) => (agentTurns = m.agentTurns));
      // The message's trace context holds for this call only: enter it again once the module is in.
      const trace = currentContext();
      return loading.then((turns) => withContext(trace, () => start(msg, ctx, turns)));
    },
    postStop() {
      for (const controller of runs.values()) controller.abort();
      runs.clear();
    },
  };
}
