// Teams end to end: a real WebSocket client talks to the lead; the lead's tool
// calls put tasks on the board in PGlite; members and a reviewer run on a
// worker against their own fake upstreams; results come back to the lead as
// messages, and the client sees team.* events.
import t from 'tap';
import { STORE_CALLS } from '../helpers/store_calls.js';
import { Client, eventually, sent, startTeamGateway, userMessages } from './teams_harness.js';

t.test('a team run with a dependency and a review that rejects once, then approves', async (t) => {
  const { gw, fakes, token, tenant } = await startTeamGateway(t, {
    lead: {
      script: [{
        toolCalls: [
          { id: 'c1', name: 'team_task_create', arguments: { title: 'outline', input: 'Outline a post about actors.' } },
          { id: 'c2', name: 'team_task_create', arguments: { title: 'draft', input: 'Write the post from the outline.', blockedBy: ['#1'], review: 'agent' } },
        ],
      }, { text: 'The team is on it.' }],
      fallback: { text: 'Noted.' },
    },
    writer: {
      script: [
        { text: 'OUTLINE: mailboxes, supervision' },
        { toolCalls: [{ id: 'w1', name: 'team_task_complete', arguments: { result: 'draft v1' } }] }, { text: 'handed in' },
        { toolCalls: [{ id: 'w2', name: 'team_task_complete', arguments: { result: 'draft v2 with detail' } }] }, { text: 'handed in again' },
      ],
    },
    critic: {
      script: [
        { toolCalls: [{ id: 'r1', name: 'team_task_review', arguments: { verdict: 'reject', feedback: 'needs more detail' } }] }, { text: 'sent back' },
        { text: 'APPROVE: good now' },
      ],
    },
  }, [{ id: 'blog', lead: 'lead', members: ['writer'], reviewers: ['critic'] }]);

  const client = await Client.open(gw.port, token);
  t.teardown(() => client.close());
  t.match(await client.call('team.watch', { team: 'blog' }), { ok: true, payload: { watching: true } });
  const final = await client.turn({ message: 'Write a blog post with the team', agent: 'lead', sessionKey: 'blog-lead' });
  t.match(final, { event: 'chat.final' });
  const ended = await client.waitFor((f) => f.event?.startsWith('team.run.') === true, 60_000, 'the end of the team run');
  t.equal(ended.event, 'team.run.done', 'the run ended with a result');
  const leadGot = (): string[] => userMessages(fakes.get('lead')).filter((m) => m.startsWith('[team blog'));
  t.ok(await eventually(() => leadGot().some((m) => /ended: done/.test(m))), 'the lead was told the run ended');

  const board = await client.call('team.board', { team: 'blog' });
  const tasks = board.payload?.tasks as { title: string; status: string; round: number; delivered: boolean; id: string }[];
  t.same(tasks.map((x) => [x.title, x.status, x.delivered]), [['outline', 'done', true], ['draft', 'done', true]], 'both done and delivered');
  t.equal(tasks[1].round, 2, 'two review rounds');

  const writer = fakes.get('writer');
  t.equal(writer?.requests.length, 5, 'outline once, the draft twice (two requests each)');
  t.match(sent(writer, 0)[0]?.content, /outline/, 'the outline went first: the draft was blocked by it');
  t.match(sent(writer, 3)[0]?.content, /sent your last result back \(round 1\): needs more detail/, 'the redo carries the feedback');
  t.match(sent(fakes.get('critic'), 2)[0]?.content, /draft v2 with detail/, 'the second review saw the new result');

  const lead = leadGot();
  t.ok(lead.some((m) => /"outline": done\n {2}result: OUTLINE/.test(m)), 'the outline reached the lead as a message');
  t.ok(lead.some((m) => /"draft": done\n {2}result: draft v2 with detail/.test(m)), 'the approved draft reached the lead');

  const names = new Set(client.events('team.').map((f) => f.event));
  for (const e of ['team.task.pending', 'team.task.claimed', 'team.task.running', 'team.task.in_review', 'team.task.done', 'team.task.delivered', 'team.run.done']) {
    t.ok(names.has(e), `the watcher saw ${e}`);
  }

  const res = await fetch(`${gw.url}/v1/teams/blog/board`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(res.status, 200);
  t.equal(((await res.json()) as { tasks: unknown[] }).tasks.length, 2, 'the HTTP board shows the same tasks');

  await gw.store?.flush(30_000);
  const audit = await gw.store?.call<unknown, { action: string }[]>(STORE_CALLS, 'auditList', { tenant, limit: 1000 });
  const actions = (audit ?? []).map((r) => r.action);
  t.ok(actions.includes('team.run.start') && actions.includes('team.run.done'), 'the run is audited');
  t.equal(actions.filter((a) => a === 'team.task.done').length, 2, 'each task was done once');

  // Every run of the team is a run: the lead's turns and each member's and reviewer's attempt are recorded.
  await gw.store?.flush(30_000);
  const usage = await gw.store?.usageSummary(tenant, { from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000), groupBy: 'agent' });
  const byAgent = new Map((usage ?? []).map((r) => [r.group, r]));
  t.same([...byAgent.keys()].sort(), ['critic', 'lead', 'writer']);
  t.equal(byAgent.get('writer')?.runs, 3, 'the outline and both drafts');
  t.equal(byAgent.get('critic')?.runs, 2, 'both reviews');
  t.equal(byAgent.get('writer')?.inputTokens, 7 * 5, 'every request of the writer (7 input tokens each)');
});
