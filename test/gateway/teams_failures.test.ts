// Every team limit, and each failure GoClaw's users reported, as a scenario on
// one gateway: each has its own team, lead and members (their own fakes), all
// run side by side, and each must end with a result or a clear failure.
import t from 'tap';
import { signToken } from '../../security/jwt.js';
import { Client, eventually, SECRET, sent, startTeamGateway, userMessages, type Frame } from './teams_harness.js';

const create = (id: string, title: string, extra: Record<string, unknown> = {}) =>
  ({ id, name: 'team_task_create', arguments: { title, input: `do ${title}`, ...extra } });
// Long enough to outlast the scenario, short enough not to hold the process at exit (the fake's timer is not unref'd).
const hang = { text: 'never ever', delayMsPerChunk: 20_000 };
const same = { toolCalls: [{ id: 'l', name: 'list_files', arguments: { path: '.' } }] };

const { gw, fakes, token } = await startTeamGateway(t, {
  capLead: { script: [{ toolCalls: [create('a', 'one'), create('b', 'two')] }, { text: 'ok' }], fallback: { text: 'ok' } },
  capM: { fallback: { text: 'done one' } },
  budLead: { script: [{ toolCalls: [create('a', 'first'), create('b', 'second', { blockedBy: ['#1'] })] }, { text: 'ok' }], fallback: { text: 'ok' } },
  budM: { fallback: { text: 'expensive', usage: { input: 50, output: 10 } } },
  slowLead: { script: [{ toolCalls: [create('a', 'forever')] }, { text: 'ok' }], fallback: { text: 'ok' } },
  slowM: { fallback: hang },
  depLead: { script: [{ toolCalls: [create('a', 'A'), create('b', 'B', { blockedBy: ['#1'] }), create('c', 'C', { blockedBy: ['#2'] })] }, { text: 'ok' }], fallback: { text: 'ok' } },
  depM: { script: [{ toolCalls: [{ id: 'f', name: 'team_task_fail', arguments: { reason: 'the data is missing' } }] }], fallback: { text: 'gave up' } },
  loopLead: { script: [{ toolCalls: [create('a', 'spin')] }, { text: 'ok' }], fallback: { text: 'ok' } },
  loopM: { fallback: same },
  muteLead: { script: [{ toolCalls: [create('a', 'quick')] }, { text: 'ok' }], fallback: hang },
  muteM: { fallback: { text: 'quick result' } },
  dropLead: { script: [{ toolCalls: [create('a', 'keep')] }, { text: 'ok' }], fallback: { text: 'ok' } },
  dropM: { script: [{ toolCalls: [{ id: 'k', name: 'team_task_complete', arguments: { result: 'kept result' } }] }, { status: 500, errorMessage: 'upstream broke' }], fallback: { status: 500 } },
  redLead: { fallback: { text: 'ok' } },
  redM: { fallback: { text: 'red work' } },
  blueLead: { script: [{ toolCalls: [create('a', 'blue secret')] }, { text: 'ok' }], fallback: { text: 'ok' } },
  blueM: { fallback: { text: 'blue work takes long', delayMsPerChunk: 15_000 } },
  // deepLead leads team deep (max depth 1) but is reached through a delegation: its tasks would be depth 2.
  deepOuter: {
    allowAgents: ['deepLead'],
    script: [{ toolCalls: [{ id: 'd', name: 'delegate', arguments: { agent: 'deepLead', task: 'plan it with your team', mode: 'sync' } }] }, { text: 'ok' }],
    fallback: { text: 'ok' },
  },
  deepLead: { script: [{ toolCalls: [create('a', 'too deep')] }, { text: 'my team cannot take it' }], fallback: { text: 'ok' } },
  deepM: { fallback: { text: 'deep work' } },
}, [
  { id: 'cap', lead: 'capLead', members: ['capM'], limits: { maxTasks: 1 } },
  { id: 'budget', lead: 'budLead', members: ['budM'], limits: { tokenBudget: 5 } },
  { id: 'slow', lead: 'slowLead', members: ['slowM'], limits: { maxDurationMs: 2_000 } },
  { id: 'dep', lead: 'depLead', members: ['depM'] },
  { id: 'loop', lead: 'loopLead', members: ['loopM'], limits: { maxAttempts: 1 } },
  { id: 'mute', lead: 'muteLead', members: ['muteM'], limits: { leadTurnTimeoutMs: 1_500 } },
  { id: 'drop', lead: 'dropLead', members: ['dropM'] },
  { id: 'red', lead: 'redLead', members: ['redM'] },
  { id: 'blue', lead: 'blueLead', members: ['blueM'] },
  { id: 'deep', lead: 'deepLead', members: ['deepM'], limits: { maxDepth: 1 } },
]);

const client = await Client.open(gw.port, token);
t.teardown(() => client.close());
await client.call('team.watch', {});
const runEnd = (team: string): Promise<Frame> =>
  client.waitFor((f) => f.event?.startsWith('team.run.') === true && f.payload?.teamId === team, 90_000, `the end of team ${team}'s run`);
const lead = (agent: string, team: string): string[] => userMessages(fakes.get(agent)).filter((m) => m.startsWith(`[team ${team}`));

const leads = ['capLead', 'budLead', 'slowLead', 'depLead', 'loopLead', 'muteLead', 'dropLead', 'blueLead', 'deepOuter'];
await Promise.all(leads.map((agent) => client.turn({ message: 'go', agent, sessionKey: `s-${agent}` })));

t.test('max tasks: the task past the limit is refused, the run ends with the ones it has', async (t) => {
  t.match(sent(fakes.get('capLead'), 1).find((m) => m.tool_call_id === 'b')?.content, /maximum of 1 tasks/);
  t.match(await runEnd('cap'), { event: 'team.run.done' });
});

t.test('token budget: past it the run fails, what was left is cancelled, and the lead is told', async (t) => {
  t.match(await runEnd('budget'), { event: 'team.run.failed', payload: { run: { error: /token budget exhausted \(60 of 5 tokens\)/ } } });
  t.ok(await eventually(() => lead('budLead', 'budget').some((m) => /"second": cancelled/.test(m) && /ended: failed/.test(m))));
});

t.test('max duration: a member that never answers cannot hold the run past its deadline', async (t) => {
  t.match(await runEnd('slow'), { event: 'team.run.failed', payload: { run: { error: /deadline passed/ } } });
  t.ok(await eventually(() => lead('slowLead', 'slow').some((m) => /"forever": cancelled/.test(m))));
});

t.test('max depth: a task deeper than the team run allows is refused, and nothing is left running', async (t) => {
  t.match(sent(fakes.get('deepLead'), 1).find((m) => m.tool_call_id === 'a')?.content, /depth 2 is past the team run's maximum depth of 1/);
  t.match(sent(fakes.get('deepOuter'), 1).find((m) => m.tool_call_id === 'd')?.content, 'my team cannot take it', 'the delegation still ended with an answer');
  const board = await client.call('team.board', { team: 'deep' });
  t.same([board.payload?.runs, board.payload?.tasks], [[], []], 'no task and no run on team deep\'s board');
  t.equal(fakes.get('deepM')?.requests.length, 0, 'the member was never called');
});

t.test('dispatch deadlock: a failed dependency cancels what waits on it, and the run ends', async (t) => {
  t.match(await runEnd('dep'), { event: 'team.run.failed', payload: { run: { error: '1 of 3 tasks failed' } } });
  const board = await client.call('team.board', { team: 'dep' });
  t.same((board.payload?.tasks as { title: string; status: string }[]).map((x) => [x.title, x.status]),
    [['A', 'failed'], ['B', 'cancelled'], ['C', 'cancelled']]);
  t.ok(await eventually(() => lead('depLead', 'dep').some((m) => /"A": failed \(the data is missing\)/.test(m))));
});

t.test('the loop guard: a member stopped by it fails its task instead of leaving it in progress', async (t) => {
  t.match(await runEnd('loop'), { event: 'team.run.failed' });
  const board = await client.call('team.board', { team: 'loop' });
  t.match((board.payload?.tasks as Record<string, unknown>[])[0], { status: 'failed', error: /loop_detected/ });
});

t.test('a lead that stops answering: its turn is aborted, the run still ends and every result is delivered', async (t) => {
  await client.waitFor((f) => f.event === 'team.lead.timeout' && f.payload?.teamId === 'mute', 60_000, 'the lead timeout');
  t.match(await runEnd('mute'), { event: 'team.run.done' });
  t.ok(await eventually(async () => {
    const board = await client.call('team.board', { team: 'mute' });
    return (board.payload?.tasks as { delivered: boolean }[]).every((x) => x.delivered);
  }), 'the result was delivered although the lead hangs');
});

t.test('dropped results: a result handed in before the member crashed is kept and reaches the lead', async (t) => {
  t.match(await runEnd('drop'), { event: 'team.run.done' });
  t.ok(await eventually(() => lead('dropLead', 'drop').some((m) => /"keep": done\n {2}result: kept result/.test(m))));
});

t.test("another team's board: a lead cannot put, see or cancel tasks there, nor can another tenant", async (t) => {
  const blue = await client.call('team.board', { team: 'blue' });
  const blueTask = (blue.payload?.tasks as { id: string }[])[0].id;
  fakes.get('redLead')?.script({
    toolCalls: [
      create('x1', 'sneak', { team: 'blue' }),
      { id: 'x2', name: 'team_task_cancel', arguments: { taskId: blueTask } },
      { id: 'x3', name: 'team_tasks', arguments: {} },
    ],
  }, { text: 'tried' });
  await client.turn({ message: 'mess with blue', agent: 'redLead', sessionKey: 's-red' });
  const red = sent(fakes.get('redLead'), 1);
  t.match(red.find((m) => m.tool_call_id === 'x1')?.content, /FORBIDDEN: you do not lead team "blue"/);
  t.match(red.find((m) => m.tool_call_id === 'x2')?.content, /no unfinished task .* on team red's board/);
  t.equal(red.find((m) => m.tool_call_id === 'x3')?.content, '[]', "red's list shows nothing of blue's");
  const after = (await client.call('team.board', { team: 'blue' })).payload?.tasks as { id: string; status: string }[];
  t.ok(after.length === 1 && after[0].id === blueTask && after[0].status !== 'cancelled', 'the blue task is untouched');

  const other = await Client.open(gw.port, await signToken({ secret: SECRET, tenant: 'someone-else', user: 'eve', ttlSec: 600 }));
  t.teardown(() => other.close());
  t.same((await other.call('team.board', { team: 'blue' })).payload?.tasks, [], 'another tenant sees an empty board (RLS)');
  const res = await fetch(`${gw.url}/v1/teams/blue/board`, { headers: { authorization: `Bearer ${await signToken({ secret: SECRET, tenant: 'someone-else', user: 'eve', ttlSec: 600 })}` } });
  t.same(((await res.json()) as { tasks: unknown[] }).tasks, []);
});
