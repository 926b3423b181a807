/**
 * The team tools an agent is offered, by what it is in this run: a lead gets
 * team_task_create / team_tasks / team_task_cancel; a member working a task gets
 * team_task_claim / team_task_complete / team_task_fail; a reviewer gets
 * team_task_review; an agent with `allowAgents` gets delegate and handoff.
 * Every one of them is a question to the coordinator on the main thread, which
 * owns the board; handoff alone is settled with the session.
 */
import type { ActorRef } from '../../runtime/index.js';
import type { AgentTool, ToolOutcome } from '../agent_tools.js';
import type { AgentConfig, SessionRequest } from '../protocol.js';
import type { TeamCaller, TeamReply, TeamRequest, TeamRunContext } from './protocol.js';

/** How long a tool waits for the coordinator (a sync delegation waits for the whole task). */
const ASK_MS = 30_000;
const DELEGATE_SYNC_MS = 15 * 60_000;

export interface TeamToolRun {
  tenant: string;
  sessionKey: string;
  chain?: string[];
  team?: TeamRunContext;
  session?: ActorRef<SessionRequest>;
}

/** Set by handoff: the agent loop ends its run once the turn's tools are done. */
export interface HandoffControl {
  handoff?: { to: string; reason: string };
}

const obj = (properties: Record<string, unknown>, required: string[] = []): Record<string, unknown> =>
  ({ type: 'object', properties, required, additionalProperties: false });
const str = (description: string): Record<string, unknown> => ({ type: 'string', description });

export function teamTools(
  config: AgentConfig, run: TeamToolRun, coordinator: ActorRef<TeamRequest> | undefined, control: HandoffControl,
): AgentTool[] {
  if (coordinator === undefined) return [];
  const caller: TeamCaller = { tenant: run.tenant, sessionKey: run.sessionKey, agent: config.id, chain: run.chain ?? [] };
  const ask = async (req: TeamRequest, timeoutMs = ASK_MS): Promise<ToolOutcome> => {
    const reply = (await coordinator.ask(req, { timeoutMs })) as TeamReply;
    return { content: reply.content, ...(reply.isError ? { isError: true } : {}) };
  };
  const tool = (name: string, description: string, parameters: Record<string, unknown>, readOnly: boolean,
    run: (a: Record<string, unknown>) => Promise<ToolOutcome>): AgentTool => ({ spec: { name, description, parameters }, readOnly, group: 'team', run });
  const tools: AgentTool[] = [];
  const teamArg = { team: str('Team id (needed only when you lead several teams)') };

  if ((config.leads ?? []).length > 0) {
    tools.push(
      tool('team_task_create', 'Put a task on your team\'s board. A member picks it up; you get its result as a message.', obj({
        ...teamArg, title: str('Short title'), input: str('Everything the member needs to do the task'),
        assignee: str('A member id; absent: any member'),
        blockedBy: { type: 'array', items: { type: 'string' }, description: 'Task ids that must be done first' },
        review: { type: 'string', enum: ['none', 'agent', 'schema'], description: 'Quality gate: a reviewer agent, or resultSchema' },
        resultSchema: { type: 'object', description: 'JSON Schema the result must satisfy (review: schema)' },
      }, ['title', 'input']), false, (a) => ask({ t: 'create', caller, args: a })),
      tool('team_tasks', 'List tasks on your team\'s board.', obj({
        ...teamArg, status: { type: 'string', enum: ['pending', 'claimed', 'running', 'in_review', 'done', 'failed', 'cancelled'] },
        assignee: str('Only tasks for this member'), runId: str('Only this team run'),
      }), true, (a) => ask({ t: 'list', caller, args: a })),
      tool('team_task_cancel', 'Cancel an unfinished task (and what waits on it).', obj({ ...teamArg, taskId: str('The task id') }, ['taskId']),
        false, (a) => ask({ t: 'cancel', caller, args: a })),
    );
  }
  const ctx = run.team;
  if (ctx?.role === 'member') {
    tools.push(
      tool('team_task_claim', 'Claim another pending task of your team (or the one with this id); finish it with team_task_complete.',
        obj({ taskId: str('A task id; absent: the next one for you') }), false, (a) => ask({ t: 'claim', caller, ctx, args: a })),
      tool('team_task_complete', 'Hand in the result of your task.', obj({ result: str('The result'), taskId: str('Absent: the task you were given') }, ['result']),
        false, (a) => ask({ t: 'complete', caller, ctx, args: a })),
      tool('team_task_fail', 'Give up on your task, saying why.', obj({ reason: str('Why it cannot be done'), taskId: str('Absent: the task you were given') }, ['reason']),
        false, (a) => ask({ t: 'fail', caller, ctx, args: a })),
    );
  }
  if (ctx?.role === 'reviewer') {
    tools.push(tool('team_task_review', 'Approve the result, or send it back with feedback.', obj({
      verdict: { type: 'string', enum: ['approve', 'reject'] }, feedback: str('What to fix (or why it is good)'),
    }, ['verdict']), false, (a) => ask({ t: 'review', caller, ctx, args: a })));
  }
  const allowed = config.allowAgents ?? [];
  if (allowed.length > 0) {
    tools.push(
      tool('delegate', `Give a task to another agent (${allowed.join(', ')}). sync: wait for its result; async: get a task id, the result comes later as a message.`, obj({
        agent: { type: 'string', enum: allowed }, task: str('What it should do'), mode: { type: 'string', enum: ['sync', 'async'] },
      }, ['agent', 'task']), true, (a) => ask({ t: 'delegate', caller, args: a }, a.mode === 'async' ? ASK_MS : DELEGATE_SYNC_MS)),
      tool('handoff', `Hand this conversation to another agent (${allowed.join(', ')}): the user is told, and their next messages go to it.`, obj({
        agent: { type: 'string', enum: allowed }, reason: str('Why, in a sentence the user will see'),
      }, ['agent']), false, (a) => Promise.resolve(handoff(config, run, control, a))),
    );
  }
  return tools;
}

function handoff(config: AgentConfig, run: TeamToolRun, control: HandoffControl, a: Record<string, unknown>): ToolOutcome {
  const to = typeof a.agent === 'string' ? a.agent : '';
  const reason = typeof a.reason === 'string' ? a.reason.slice(0, 500) : '';
  if (!(config.allowAgents ?? []).includes(to)) return { content: `error: handoff to "${to}" is not allowed (allowAgents)`, isError: true };
  if (to === config.id || (run.chain ?? []).includes(to)) {
    return { content: `error: loop detected: ${[...(run.chain ?? []), config.id, to].join(' → ')}`, isError: true };
  }
  if (run.session === undefined) return { content: 'error: handoff needs a conversation (this run has no session)', isError: true };
  if (control.handoff !== undefined) return { content: `error: already handed off to ${control.handoff.to}`, isError: true };
  control.handoff = { to, reason };
  run.session.tell({ t: 'handoff', from: config.id, to, reason });
  return { content: `handed off to ${to}` };
}
