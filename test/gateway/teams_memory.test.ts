// The `team` memory scope end to end: agents working in a team (its lead, its
// members) call memory_save / memory_search with scope "team" (scripted tool
// calls against fake upstreams); the notes land in the tenant's memory in
// PGlite under `team:<id>`. Members of the same team find them; a member of
// another team, the same team in another tenant (RLS) and an agent outside any
// team do not, and the last one is told why.
import { randomBytes } from 'node:crypto';
import t, { type Test } from 'tap';
import { STORE_CALLS } from '../helpers/store_calls.js';
import { signToken } from '../../security/jwt.js';
import { Client, eventually, SECRET, sent, startTeamGateway, userMessages, type TeamGateway } from './teams_harness.js';

const toolCall = (id: string, name: string, args: Record<string, unknown>) => ({ toolCalls: [{ id, name, arguments: args }] });
const create = (id: string, title: string, assignee: string, extra: Record<string, unknown> = {}) =>
  ({ id, name: 'team_task_create', arguments: { title, input: `Do: ${title}`, assignee, ...extra } });

/** What the tools said back to the agent: the `tool` messages of its n-th request to the fake. */
function toolResults(tg: TeamGateway, agent: string, n: number): string[] {
  return sent(tg.fakes.get(agent), n).filter((m) => m.role === 'tool').map((m) => String(m.content));
}

/**
 * Runs the lead's turn and waits until the team run it started has ended and the lead
 * was told so (its last turn of the run: nothing more of its script is used up after).
 */
async function teamRun(t: Test, tg: TeamGateway, token: string, lead: string, team: string): Promise<void> {
  const endNotes = (): number => userMessages(tg.fakes.get(lead)).filter((m) => m.startsWith(`[team ${team}`) && /ended: done/.test(m)).length;
  const before = endNotes();
  const client = await Client.open(tg.gw.port, token);
  t.teardown(() => client.close());
  await client.call('team.watch', { team });
  t.match(await client.turn({ message: `work with team ${team}`, agent: lead, sessionKey: `${team}-lead` }), { event: 'chat.final' });
  const ended = await client.waitFor((f) => f.event?.startsWith('team.run.') === true, 90_000, `the end of team ${team}'s run`);
  t.equal(ended.event, 'team.run.done', `team ${team}'s run ended done`);
  t.ok(await eventually(() => endNotes() > before, 60_000), `the lead of team ${team} was told the run ended`);
}

t.test('team memory: shared by one team, invisible to another team, another tenant and agents outside teams', async (t) => {
  const tg = await startTeamGateway(t, {
    redlead: {
      // Saves a team note itself (it leads exactly one team), then puts two tasks on the board:
      // alpha saves a note, beta (after alpha) searches the team's memory.
      script: [
        { toolCalls: [
          { id: 'l1', name: 'memory_save', arguments: { text: 'lead note: the launch is on Friday', scope: 'team' } },
          create('l2', 'save the code word', 'alpha'),
          create('l3', 'recall the code word', 'beta', { blockedBy: ['#1'] }),
        ] },
        { text: 'The team is on it.' },
      ],
      fallback: { text: 'Noted.' },
    },
    alpha: { script: [toolCall('a1', 'memory_save', { text: 'the launch code word is PAPAYA', scope: 'team' }), { text: 'saved it' }] },
    beta: { script: [toolCall('b1', 'memory_search', { query: 'launch code word', scope: 'team', limit: 10 }), { text: 'found it' }] },
    bluelead: { script: [{ toolCalls: [create('k1', 'look for the code word', 'gamma')] }, { text: 'On it.' }], fallback: { text: 'Noted.' } },
    // Searches the team scope, then every scope it has.
    gamma: {
      script: [
        { toolCalls: [
          { id: 'g1', name: 'memory_search', arguments: { query: 'launch code word PAPAYA', scope: 'team' } },
          { id: 'g2', name: 'memory_search', arguments: { query: 'launch code word PAPAYA' } },
        ] },
        { text: 'nothing here' },
      ],
    },
    loner: {
      script: [
        toolCall('n1', 'memory_save', { text: 'a loner note', scope: 'team' }), { text: 'could not' },
        toolCall('n2', 'memory_search', { query: 'launch code word', scope: 'team' }), { text: 'could not either' },
        toolCall('n3', 'memory_search', { query: 'launch code word PAPAYA' }), { text: 'nothing' },
      ],
    },
  }, [
    { id: 'red', lead: 'redlead', members: ['alpha', 'beta'] },
    { id: 'blue', lead: 'bluelead', members: ['gamma'] },
  ]);

  await teamRun(t, tg, tg.token, 'redlead', 'red');
  t.match(toolResults(tg, 'redlead', 1)[0], /^saved memory \S+ \(team\)$/, 'the lead saved into the team scope');
  t.match(toolResults(tg, 'alpha', 1)[0], /^saved memory \S+ \(team\)$/, 'a member saved into the team scope');
  const found = toolResults(tg, 'beta', 1)[0];
  t.match(found, /\(team\) the launch code word is PAPAYA/, 'another member of the team finds the member\'s note');
  t.match(found, /\(team\) lead note: the launch is on Friday/, 'and the lead\'s note');

  const stored = await tg.gw.store?.call<unknown, { namespace: string; content: string }[]>(STORE_CALLS, 'tenantQuery', { tenant: tg.tenant, sql:
    'SELECT namespace, content FROM memory ORDER BY content' });
  t.same(stored?.map((r) => [r.namespace, r.content]), [
    ['team:red', 'lead note: the launch is on Friday'], ['team:red', 'the launch code word is PAPAYA'],
  ], 'both notes are in the team\'s namespace of the tenant');

  await t.test('a member of another team of the same tenant sees none of it', async (t) => {
    await teamRun(t, tg, tg.token, 'bluelead', 'blue');
    t.same(toolResults(tg, 'gamma', 1), ['no matching memories', 'no matching memories'], 'neither the team scope nor all its scopes reach team red');
  });

  await t.test('an agent outside any team is refused the team scope, with the reason', async (t) => {
    const client = await Client.open(tg.gw.port, tg.token);
    t.teardown(() => client.close());
    for (let i = 0; i < 3; i++) await client.turn({ message: `try ${i}`, agent: 'loner', sessionKey: 'loner' });
    const refusal = /memory scope "team" is only for agents working in a team \(as its lead, a member or a reviewer\)/;
    // Each turn's request after its tool call ends with that call's result.
    t.match(toolResults(tg, 'loner', 1).at(-1), refusal, 'memory_save with scope team');
    t.match(toolResults(tg, 'loner', 3).at(-1), refusal, 'memory_search with scope team');
    t.equal(toolResults(tg, 'loner', 5).at(-1), 'no matching memories', 'searching its own scopes does not reach the team');
  });

  await t.test('the same team in another tenant sees none of it (RLS)', async (t) => {
    // Tenant A's run is over and its lead turns are done: script tenant B's run of team red.
    tg.fakes.get('redlead')?.script({ toolCalls: [create('x1', 'recall the code word', 'beta')] }, { text: 'On it.' });
    tg.fakes.get('beta')?.script(toolCall('x2', 'memory_search', { query: 'launch code word PAPAYA', scope: 'team' }), { text: 'nothing' });
    const before = tg.fakes.get('beta')?.requests.length ?? 0;
    const other = `t${randomBytes(4).toString('hex')}`;
    const token = await signToken({ secret: SECRET, tenant: other, user: 'bob', scopes: ['chat'], ttlSec: 600 });
    await teamRun(t, tg, token, 'redlead', 'red');
    t.ok(await eventually(() => (tg.fakes.get('beta')?.requests.length ?? 0) >= before + 2), 'beta worked the other tenant\'s task');
    t.same(toolResults(tg, 'beta', before + 1), ['no matching memories'], 'team red of tenant B does not see team red of tenant A');
  });
});
