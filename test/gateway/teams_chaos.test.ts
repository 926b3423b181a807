// Chaos: 100 tasks over 4 members on 2 workers while workers are killed again
// and again (TROUPE_ENABLE_FAULTS, admin.fault over the wire). Afterwards every
// task is done exactly once, every result reached the lead once, the run ended
// and nothing is left open. Bounded: 100 tasks, 8 kills, 3 minutes.
import t from 'tap';
import { BOOKS, type TeamRunBooks } from '../../bench/teams/check.js';
import { signToken } from '../../security/jwt.js';
import { Client, SECRET, startTeamGateway } from './teams_harness.js';

const TASKS = 100;
const KILLS = 8;

t.test('100 tasks, 4 members, 2 workers, workers killed repeatedly: nothing lost, duplicated or stuck', async (t) => {
  const members = ['m1', 'm2', 'm3', 'm4'];
  const sim = (tokens: number, latencyMs = 0) => ({ config: { model: 'sim', provider: { kind: 'simulated' as const, tokens, latencyMs } } });
  const { gw, token, tenant } = await startTeamGateway(t, {
    lead: {
      script: [{ toolCalls: Array.from({ length: TASKS }, (_, i) => ({ id: `c${i}`, name: 'team_task_create', arguments: { title: `part ${i + 1}`, input: `Do part ${i + 1}.` } })) }, { text: 'delegated' }],
      fallback: { text: 'noted' },
    },
    ...Object.fromEntries(members.map((m) => [m, sim(12, 15)])),
  }, [{ id: 'crew', lead: 'lead', members, limits: { maxTasks: TASKS, leaseMs: 1_500, maxAttempts: 50, leadTurnTimeoutMs: 10_000 } }],
  { TROUPE_WORKERS: '2', TROUPE_ENABLE_FAULTS: '1' });

  const client = await Client.open(gw.port, token);
  t.teardown(() => client.close());
  // admin.fault needs the platform scope; the lead's chat token has only chat.
  const operator = await Client.open(gw.port, await signToken({ secret: SECRET, tenant, user: 'operator', scopes: ['platform'], ttlSec: 600 }));
  t.teardown(() => operator.close());
  await client.call('team.watch', { team: 'crew' });
  const final = await client.turn({ message: 'split the work', agent: 'lead', sessionKey: 'crew-lead' }, 180_000);
  t.match(final, { event: 'chat.final' }, 'the lead created the tasks');

  let kills = 0;
  const hosts = gw.system.workers?.hosts ?? [];
  while (kills < KILLS && !client.events('team.run.').length) {
    await new Promise((r) => setTimeout(r, 700));
    const res = await operator.call('admin.fault', { kind: 'worker-kill', worker: hosts[kills % hosts.length] });
    if (res.ok === true) kills++;
  }
  const ended = await client.waitFor((f) => f.event?.startsWith('team.run.') === true, 180_000, 'the end of the run');
  t.equal(ended.event, 'team.run.done', 'the run ended with a result');
  t.ok(kills >= 1, `workers were killed during the run (${kills})`);

  // The last lead turn's messages reach the store through write-behind.
  await new Promise((r) => setTimeout(r, 1_500));
  await gw.store?.flush(30_000);
  const runId = String(ended.payload?.runId);
  const books = await gw.store!.call<unknown, TeamRunBooks>(BOOKS, 'teamRunBooksCall', { tenant, runId });
  t.equal(books.tasks, TASKS);
  t.same(books.byStatus, { done: TASKS }, 'every task done');
  t.equal(books.duplicated, 0, 'no task done twice or delivered twice');
  t.equal(books.lost, 0, 'every result reached the lead');
  t.equal(books.stuck, 0, 'nothing left open');
  t.equal(books.deliveredOnce, TASKS);
  t.ok((gw.system.metricsSnapshot().workerReplacements ?? 0) >= 1, 'workers were replaced');
});
