// A team's token budget against the coordinator's sweep: an attempt's tokens can
// be counted between the sweep's read of its run and what the sweep does next
// (claim the task that waited on it, or end the run). On a loaded machine that
// once let the budget scenario of teams_failures end `done`. Here the ordering
// is forced: the member's answer is held until the sweep has read the run, and
// that read is handed back only once the task was handed in (its tokens counted
// first), so the sweep acts on a run read before the task's tokens were counted.
import type { Test } from 'tap';
import { TeamCoordinator, type TeamBoardStore } from '../../actors/team/coordinator.js';
import type { AgentConfig } from '../../actors/protocol.js';
import { ActorSystem } from '../../runtime/index.js';
import type { Lease, NewTeamTask, Store, TeamTask, TenantScope } from '../../store/index.js';
import { OpenAIUpstream } from '../fakes/openai_upstream.js';
import { eachBackend, seedTenants } from '../store/backends.js';

const EXPENSIVE = { text: 'expensive', usage: { input: 50, output: 10 } };

function latch(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** The gate between the sweep's read of the run and the hand-in of task #1. */
class Gate {
  private readonly read = latch();
  private readonly handedIn = latch();
  private created = 0;
  private firstStarted = false;
  private armed = false;
  /** Resolves once the sweep has read the run while #1 was running: the member may answer. */
  readonly runRead = this.read.promise;

  /** `tasks`: how many the lead creates; the gate arms once all exist and #1 runs. */
  constructor(private readonly tasks: number) {}

  createdOne(): void {
    this.created++;
    this.arm();
  }

  started(task: TeamTask | null): void {
    if (task?.seq !== 1) return;
    this.firstStarted = true;
    this.arm();
  }

  private arm(): void {
    if (this.firstStarted && this.created === this.tasks) this.armed = true;
  }

  submitted(task: TeamTask | null): void {
    if (task?.seq === 1) this.handedIn.open();
  }

  /** After a transaction that read the run: the first one while #1 runs returns only after #1 was handed in. */
  async afterRead(): Promise<void> {
    if (!this.armed) return;
    this.armed = false;
    this.read.open();
    await this.handedIn.promise;
  }
}

/** The store, every transaction on it seen by the gate (it holds nothing open: a read is held after its commit). */
function gatedStore(store: Store, gate: Gate): TeamBoardStore {
  return {
    teamTenants: () => store.teamTenants(),
    async withTenant<T>(tenant: string, fn: (scope: TenantScope) => Promise<T>): Promise<T> {
      let readRun = false;
      const result = await store.withTenant(tenant, (s) => {
        const teamRuns: TenantScope['teamRuns'] = Object.create(s.teamRuns);
        teamRuns.get = (id: string) => {
          readRun = true;
          return s.teamRuns.get(id);
        };
        const teamTasks: TenantScope['teamTasks'] = Object.create(s.teamTasks);
        teamTasks.start = async (lease: Lease, ms: number) => {
          const task = await s.teamTasks.start(lease, ms);
          gate.started(task);
          return task;
        };
        teamTasks.create = async (input: NewTeamTask, by: string) => {
          const task = await s.teamTasks.create(input, by);
          gate.createdOne();
          return task;
        };
        teamTasks.submit = async (lease: Lease, result: string, tokens: number, by: string) => {
          const task = await s.teamTasks.submit(lease, result, tokens, by);
          gate.submitted(task);
          return task;
        };
        return fn(Object.assign(Object.create(s) as TenantScope, { teamRuns, teamTasks }));
      });
      if (readRun) await gate.afterRead();
      return result;
    },
  };
}

interface Outcome {
  end: { event: string; payload: Record<string, unknown> };
  events: string[];
  told: string[];
  memberCalls: number;
}

/** One team run of the given tasks (budget 5 tokens; each attempt costs 60) under the forced ordering. */
async function budgetRun(t: Test, store: Store, team: string, tasks: Record<string, unknown>[]): Promise<Outcome> {
  const gate = new Gate(tasks.length);
  const member = new OpenAIUpstream({ defaultReply: EXPENSIVE });
  member.script({ ...EXPENSIVE, holdAfterFirst: gate.runRead });
  await member.start();
  const system = new ActorSystem();
  const agents: AgentConfig[] = [
    { id: 'lead', model: 'fake-model', provider: { kind: 'simulated' } },
    { id: 'member', model: 'fake-model', provider: { kind: 'openai', apiKey: 'sk-test', baseURL: `${member.url}/v1` } },
  ];
  const told: string[] = [];
  const coordinator = new TeamCoordinator({
    system, store: gatedStore(store, gate), agents, teams: [{ id: team, lead: 'lead', members: ['member'], limits: { tokenBudget: 5 } }],
    lead: {
      send(_tenant, _session, _agent, message, ended) {
        told.push(message);
        ended();
        return Promise.resolve({ runId: `lead-turn-${told.length}` });
      },
      abort: () => Promise.resolve(),
    },
  });
  t.teardown(async () => {
    await coordinator.close();
    await system.shutdown(1_000);
    await member.close();
  });
  await coordinator.start();
  const events: { event: string; payload: Record<string, unknown> }[] = [];
  const ended = new Promise<Outcome['end']>((resolve) => coordinator.watch('acme', { teamId: team }, (event, payload) => {
    events.push({ event, payload });
    if (event.startsWith('team.run.')) resolve({ event, payload });
  }));
  const caller = { tenant: 'acme', sessionKey: `lead-${team}`, agent: 'lead', chain: [] };
  for (const args of tasks) {
    const reply = await coordinator.ref.ask({ t: 'create', caller, args }, { timeoutMs: 30_000 }) as { content: string; isError?: boolean };
    t.notOk(reply.isError, reply.content);
  }
  const end = await ended;
  // the lead hears of the end with the run's last outcomes
  for (let i = 0; i < 200 && !told.some((m) => /ended: /.test(m)); i++) await new Promise((r) => setTimeout(r, 25));
  const summary = events.map((e) => `${e.event} ${String((e.payload.task as { title?: string } | undefined)?.title ?? '')}`.trim());
  return { end, events: summary, told, memberCalls: member.requests.length };
}

await eachBackend(async (t, { store }) => {
  await seedTenants(store, 'acme');

  t.test('a task waiting on one that used up the budget is never claimed, however late its tokens are read', async (t) => {
    const out = await budgetRun(t, store, 'chain', [
      { title: 'first', input: 'do first' },
      { title: 'second', input: 'do second', blockedBy: ['#1'] },
    ]);
    t.notOk(out.events.includes('team.task.claimed second'), 'the second task was not handed out');
    t.equal(out.memberCalls, 1, 'the member worked once');
    t.match(out.end, { event: 'team.run.failed', payload: { run: { error: 'token budget exhausted (60 of 5 tokens)' } } });
    t.ok(out.told.some((m) => /"second": cancelled/.test(m) && /ended: failed \(token budget exhausted/.test(m)), 'the lead is told what was cancelled and why');
  });

  t.test('a run whose last task used up the budget fails instead of ending done', async (t) => {
    const out = await budgetRun(t, store, 'single', [{ title: 'only', input: 'do it' }]);
    t.match(out.end, { event: 'team.run.failed', payload: { run: { error: 'token budget exhausted (60 of 5 tokens)' } } });
    t.ok(out.told.some((m) => /"only": done/.test(m) && /ended: failed/.test(m)), 'the lead gets the result and the failure');
  });
});
