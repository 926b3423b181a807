/**
 * `troupe teams board <team> [--run ID] [--status S] [--json]`: prints a team's
 * task board from a running gateway (GET /v1/teams/:team/board), as a table.
 */
import { formatTable } from './table.js';

export interface TeamsCliOptions {
  url: string;
  token: string;
  out: (line: string) => void;
}

interface BoardTask {
  seq: number; id: string; title: string; status: string; assignee: string | null; claimedBy: string | null;
  attempts: number; round: number; delivered: boolean; error: string | null; runId: string;
}
interface BoardRun { id: string; status: string; tasksCreated: number; maxTasks: number; tokensUsed: number; tokenBudget: number; error: string | null }

/** `teams <sub> <team>` and its options, as the CLI parsed them. */
export interface TeamsArgs {
  sub?: string;
  team?: string;
  run?: string;
  status?: string;
  json: boolean;
}

export async function runTeamsCommand(args: TeamsArgs, o: TeamsCliOptions): Promise<number> {
  const { sub, team, run, status } = args;
  if (sub !== 'board' || team === undefined) {
    o.out('usage: troupe teams board <team> [--run ID] [--status pending|claimed|running|in_review|done|failed|cancelled] [--json]');
    return 2;
  }
  const res = await fetch(`${o.url.replace(/\/$/, '')}/v1/teams/${encodeURIComponent(team)}/board`, { headers: { authorization: `Bearer ${o.token}` } });
  const body = (await res.json()) as { team?: { lead: string; members: string[] }; runs?: BoardRun[]; tasks?: BoardTask[]; error?: { code: string; message: string } };
  if (!res.ok) {
    o.out(`${body.error?.code ?? res.status}: ${body.error?.message ?? 'the board could not be read'}`);
    return 1;
  }
  const tasks = (body.tasks ?? []).filter((t) => (run === undefined || t.runId === run) && (status === undefined || t.status === status));
  if (args.json) {
    o.out(JSON.stringify({ ...body, tasks }, null, 2));
    return 0;
  }
  o.out(`team ${team}: lead ${body.team?.lead ?? '?'}, members ${(body.team?.members ?? []).join(', ')}`);
  for (const r of body.runs ?? []) {
    o.out(`run ${r.id}: ${r.status}, ${r.tasksCreated}/${r.maxTasks} tasks, ${r.tokensUsed}/${r.tokenBudget} tokens${r.error ? ` (${r.error})` : ''}`);
  }
  for (const line of formatTable(['#', 'task', 'status', 'for', 'held by', 'tries', 'round', 'told lead', 'title / error'], tasks.map((t) => [
    String(t.seq), t.id.slice(0, 8), t.status, t.assignee ?? 'any', t.claimedBy ?? '', String(t.attempts), String(t.round), t.delivered ? 'yes' : 'no',
    t.error ? `${t.title} (${t.error})` : t.title,
  ]))) o.out(line);
  return 0;
}
