// The team task board on both backends: atomic claims, leases, dependencies,
// review rounds, limits, audit, and isolation by tenant (RLS) and by team id.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Store, TeamRun } from '../../store/index.js';
import { eachBackend, seedTenants } from './backends.js';

const LIMITS = { maxTasks: 10, maxDepth: 2, tokenBudget: 1_000_000, maxDurationMs: 3_600_000 };

async function newRun(store: Store, tenant: string, teamId = 'alpha', limits: Partial<typeof LIMITS> = {}): Promise<TeamRun> {
  return store.withTenant(tenant, (s) => s.teamRuns.create({
    teamId, leadAgent: 'lead', leadSession: `lead-${Math.random()}`, ...LIMITS, ...limits,
  }, 'agent:lead'));
}

await eachBackend(async (t, { kind, store, openAnother }) => {
  await seedTenants(store, 'acme', 'globex');
  const acme = <T>(fn: Parameters<Store['withTenant']>[1] & ((s: Parameters<Parameters<Store['withTenant']>[1]>[0]) => Promise<T>)): Promise<T> => store.withTenant('acme', fn);

  t.test('a task is created pending, numbered in its run, and audited', async (t) => {
    const run = await newRun(store, 'acme');
    const a = await acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'alpha', title: 'first', input: 'do it' }, 'agent:lead'));
    const b = await acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'alpha', title: 'second', input: '', assignee: 'm1' }, 'agent:lead'));
    t.match(a, { status: 'pending', seq: 1, assignee: null, attempts: 0, review: 'none' });
    t.match(b, { seq: 2, assignee: 'm1' });
    const audit = await acme((s) => s.audit.list({ limit: 1000 }));
    t.ok(audit.some((r) => r.action === 'team.task.pending' && r.target === a.id), 'the creation is in the audit log');
    t.same((await acme((s) => s.teamTasks.list('alpha', { runId: run.id }))).map((x) => x.title), ['first', 'second']);
  });

  t.test('the run refuses tasks past its maximum and deeper than its depth', async (t) => {
    const run = await newRun(store, 'acme', 'alpha', { maxTasks: 1, maxDepth: 1 });
    await t.rejects(acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'alpha', title: 'deep', input: '', depth: 2 }, 'x')),
      { code: 'INVALID_REQUEST', message: /maximum depth of 1/ });
    await acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'alpha', title: 'one', input: '' }, 'x'));
    await t.rejects(acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'alpha', title: 'three', input: '' }, 'x')),
      { code: 'INVALID_REQUEST', message: /maximum of 1 tasks/ });
    t.equal((await acme((s) => s.teamTasks.list('alpha', { runId: run.id }))).length, 1, 'the refused ones left no row (the depth refusal rolled back its slot)');
  });

  t.test('a claim is atomic: many claimers, each task goes to exactly one', async (t) => {
    const run = await newRun(store, 'acme', 'race');
    for (let i = 0; i < 5; i++) await acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'race', title: `t${i}`, input: '' }, 'x'));
    const stores = [store];
    if (kind === 'postgres') stores.push(await openAnother(), await openAnother());
    const claims = await Promise.all(Array.from({ length: 24 }, (_, i) =>
      stores[i % stores.length].withTenant('acme', (s) => s.teamTasks.claim({ teamId: 'race', member: `m${i}`, leaseMs: 60_000 }))));
    const won = claims.filter((c) => c !== null);
    t.equal(won.length, 5, 'five tasks, five winners');
    t.equal(new Set(won.map((c) => c?.id)).size, 5, 'no task claimed twice');
    t.ok(won.every((c) => c?.status === 'claimed' && c.attempts === 1 && typeof c.claimToken === 'string'));
  });

  t.test('an assigned task is claimed only by its assignee', async (t) => {
    const run = await newRun(store, 'acme', 'assign');
    await acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'assign', title: 'for m2', input: '', assignee: 'm2' }, 'x'));
    t.equal(await acme((s) => s.teamTasks.claim({ teamId: 'assign', member: 'm1', leaseMs: 60_000 })), null);
    t.match(await acme((s) => s.teamTasks.claim({ teamId: 'assign', member: 'm2', leaseMs: 60_000 })), { claimedBy: 'm2' });
  });

  t.test('dependencies release tasks in order; a failed dependency cancels what waits on it', async (t) => {
    const run = await newRun(store, 'acme', 'deps');
    const a = await acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'deps', title: 'a', input: '' }, 'x'));
    const b = await acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'deps', title: 'b', input: '', blockedBy: [a.id] }, 'x'));
    const c = await acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'deps', title: 'c', input: '', blockedBy: [b.id] }, 'x'));
    const first = await acme((s) => s.teamTasks.claim({ teamId: 'deps', member: 'm', leaseMs: 60_000 }));
    t.equal(first?.id, a.id);
    t.equal(await acme((s) => s.teamTasks.claim({ teamId: 'deps', member: 'm', leaseMs: 60_000 })), null, 'b waits for a');
    await acme((s) => s.teamTasks.submit({ id: a.id, token: first?.claimToken ?? '' }, 'A', 5, 'agent:m'));
    const second = await acme((s) => s.teamTasks.claim({ teamId: 'deps', member: 'm', leaseMs: 60_000 }));
    t.equal(second?.id, b.id, 'a done releases b');
    await acme((s) => s.teamTasks.fail({ id: b.id, token: second?.claimToken ?? '' }, 'cannot', 'agent:m'));
    const cancelled = await acme((s) => s.teamTasks.cancelBlocked(run.id, 'team'));
    t.same(cancelled.map((x) => x.id), [c.id], 'c can never run, so it is cancelled, not stranded');
    await t.rejects(acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'deps', title: 'd', input: '', blockedBy: ['nope'] }, 'x')),
      { code: 'INVALID_REQUEST', message: /blockedBy/ });
  });

  t.test('an expired lease is reclaimed; the old holder can no longer finish the task', async (t) => {
    const run = await newRun(store, 'acme', 'lease');
    const task = await acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'lease', title: 'x', input: '', maxAttempts: 2 }, 'x'));
    const held = await acme((s) => s.teamTasks.claim({ teamId: 'lease', member: 'm1', leaseMs: 10 }));
    await sleep(60);
    const back = await acme((s) => s.teamTasks.reclaimExpired('team'));
    t.same(back.map((x) => [x.id, x.status]), [[task.id, 'pending']]);
    t.equal(await acme((s) => s.teamTasks.submit({ id: task.id, token: held?.claimToken ?? '' }, 'late', 0, 'agent:m1')), null,
      'a stale token cannot submit');
    const again = await acme((s) => s.teamTasks.claim({ teamId: 'lease', member: 'm2', leaseMs: 10 }));
    t.equal(again?.attempts, 2);
    await sleep(60);
    const failed = await acme((s) => s.teamTasks.reclaimExpired('team'));
    t.match(failed[0], { status: 'failed', error: /expired 2 times/ }, 'past max attempts the task fails, not loops');
  });

  t.test('heartbeats renew only the leases still held', async (t) => {
    const run = await newRun(store, 'acme', 'beat');
    await acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'beat', title: 'x', input: '' }, 'x'));
    const held = await acme((s) => s.teamTasks.claim({ teamId: 'beat', member: 'm1', leaseMs: 1000 }));
    const lease = { id: held?.id ?? '', token: held?.claimToken ?? '' };
    t.equal(await acme((s) => s.teamTasks.heartbeat([lease, { id: lease.id, token: 'stale' }], 600_000)), 1);
    const after = await acme((s) => s.teamTasks.get('beat', lease.id));
    t.ok((after?.leaseExpiresAt?.getTime() ?? 0) > (held?.leaseExpiresAt?.getTime() ?? 0) + 100_000, 'the lease moved out');
    t.equal((await acme((s) => s.teamTasks.reclaimExpired('team'))).filter((x) => x.id === lease.id).length, 0);
  });

  t.test('a review that rejects once then approves; past the bound the task fails with its reviews', async (t) => {
    const run = await newRun(store, 'acme', 'rev');
    const task = await acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'rev', title: 'essay', input: '', review: 'agent', maxRounds: 2 }, 'x'));
    const c1 = await acme((s) => s.teamTasks.claim({ teamId: 'rev', member: 'w', leaseMs: 60_000 }));
    t.match(await acme((s) => s.teamTasks.submit({ id: task.id, token: c1?.claimToken ?? '' }, 'draft', 1, 'agent:w')), { status: 'in_review', result: 'draft' });
    const r1 = await acme((s) => s.teamTasks.claimReview({ teamId: 'rev', reviewer: 'critic', leaseMs: 60_000 }));
    t.equal(r1?.id, task.id);
    const back = await acme((s) => s.teamTasks.review('rev', task.id, { id: task.id, token: r1?.claimToken ?? '' }, { reviewer: 'critic', approve: false, feedback: 'too short' }));
    t.match(back, { status: 'pending', round: 1, feedback: 'too short', result: null });
    const c2 = await acme((s) => s.teamTasks.claim({ teamId: 'rev', member: 'w', leaseMs: 60_000 }));
    await acme((s) => s.teamTasks.submit({ id: task.id, token: c2?.claimToken ?? '' }, 'longer draft', 1, 'agent:w'));
    const r2 = await acme((s) => s.teamTasks.claimReview({ teamId: 'rev', reviewer: 'critic', leaseMs: 60_000 }));
    const done = await acme((s) => s.teamTasks.review('rev', task.id, { id: task.id, token: r2?.claimToken ?? '' }, { reviewer: 'critic', approve: true, feedback: 'good' }));
    t.match(done, { status: 'done', result: 'longer draft', round: 2 });
    t.same(done?.reviews.map((r) => [r.round, r.verdict]), [[1, 'reject'], [2, 'approve']]);

    const strict = await acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'rev', title: 'json', input: '', review: 'schema', resultSchema: { type: 'object' }, maxRounds: 1 }, 'x'));
    const c3 = await acme((s) => s.teamTasks.claim({ teamId: 'rev', member: 'w', leaseMs: 60_000 }));
    await acme((s) => s.teamTasks.submit({ id: strict.id, token: c3?.claimToken ?? '' }, 'not json', 1, 'agent:w'));
    const failed = await acme((s) => s.teamTasks.review('rev', strict.id, null, { reviewer: 'schema', approve: false, feedback: '$: must be object' }));
    t.match(failed, { status: 'failed', error: /rejected the result 1 times/, result: 'not json' });
    t.equal(failed?.reviews.length, 1, 'the reviews stay attached to the failed task');
  });

  t.test('a run past its token budget or its deadline hands out no more work, in the claim itself', async (t) => {
    // The coordinator counts an attempt's tokens, then hands its task in; a claim that sees the task done sees its cost.
    const run = await newRun(store, 'acme', 'budget', { tokenBudget: 5 });
    const a = await acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'budget', title: 'a', input: '' }, 'x'));
    await acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'budget', title: 'b', input: '', blockedBy: [a.id] }, 'x'));
    const r = await acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'budget', title: 'r', input: '', review: 'agent' }, 'x'));
    const first = await acme((s) => s.teamTasks.claim({ teamId: 'budget', member: 'm', leaseMs: 60_000 }));
    const reviewed = await acme((s) => s.teamTasks.claim({ teamId: 'budget', member: 'm', leaseMs: 60_000 }));
    t.same([first?.id, reviewed?.id], [a.id, r.id], 'within the budget, claims go on');
    await acme((s) => s.teamTasks.submit({ id: r.id, token: reviewed?.claimToken ?? '' }, 'R', 0, 'agent:m'));
    await acme((s) => s.teamRuns.addTokens(run.id, 60));
    await acme((s) => s.teamTasks.submit({ id: a.id, token: first?.claimToken ?? '' }, 'A', 60, 'agent:m'));
    t.equal(await acme((s) => s.teamTasks.claim({ teamId: 'budget', member: 'm', leaseMs: 60_000 })), null, 'b, free to run, is not handed out');
    t.equal(await acme((s) => s.teamTasks.claimReview({ teamId: 'budget', reviewer: 'critic', leaseMs: 60_000 })), null, 'nor is r\'s review');

    const late = await newRun(store, 'acme', 'late', { maxDurationMs: 1 });
    await acme((s) => s.teamTasks.create({ runId: late.id, teamId: 'late', title: 'too late', input: '' }, 'x'));
    await sleep(5);
    t.equal(await acme((s) => s.teamTasks.claim({ teamId: 'late', member: 'm', leaseMs: 60_000 })), null, 'past the deadline nothing is handed out');
  });

  t.test('ending a run as failed cancels its unfinished tasks; outcomes wait for delivery', async (t) => {
    const run = await newRun(store, 'acme', 'end');
    const a = await acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'end', title: 'a', input: '' }, 'x'));
    const b = await acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'end', title: 'b', input: '' }, 'x'));
    const held = await acme((s) => s.teamTasks.claim({ teamId: 'end', member: 'm', leaseMs: 60_000 }));
    await acme((s) => s.teamTasks.submit({ id: a.id, token: held?.claimToken ?? '' }, 'A', 10, 'agent:m'));
    t.equal((await acme((s) => s.teamRuns.addTokens(run.id, 10))).tokensUsed, 10);
    const ended = await acme((s) => s.teamRuns.finish(run.id, 'failed', 'team', 'token budget'));
    t.match(ended, { status: 'failed', error: 'token budget' });
    t.equal(await acme((s) => s.teamRuns.finish(run.id, 'done', 'team')), null, 'a run ends once');
    t.match(await acme((s) => s.teamTasks.get('end', b.id)), { status: 'cancelled' });
    t.equal(await acme((s) => s.teamTasks.claim({ teamId: 'end', member: 'm', leaseMs: 60_000 })), null);
    const waiting = await acme((s) => s.teamTasks.undelivered(run.id));
    t.same(waiting.map((x) => x.id), [a.id, b.id]);
    t.equal(await acme((s) => s.teamTasks.markDelivered(waiting.map((x) => x.id))), 2);
    t.same(await acme((s) => s.teamTasks.undelivered(run.id)), []);
    t.match(await acme((s) => s.teamTasks.counts(run.id)), { done: 1, cancelled: 1, pending: 0 });
  });

  t.test("a task is invisible on another team's board and in another tenant", async (t) => {
    const run = await newRun(store, 'acme', 'red');
    const task = await acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'red', title: 'red only', input: '' }, 'x'));
    t.equal(await acme((s) => s.teamTasks.get('blue', task.id)), null, 'not by id under another team');
    t.equal(await acme((s) => s.teamTasks.cancel('blue', task.id, 'agent:blue-lead')), null, 'not cancellable by another team');
    t.equal(await acme((s) => s.teamTasks.claim({ teamId: 'blue', member: 'm', taskId: task.id, leaseMs: 60_000 })), null);
    await t.rejects(acme((s) => s.teamTasks.create({ runId: run.id, teamId: 'blue', title: 'sneak', input: '' }, 'x')),
      { code: 'NOT_FOUND' }, 'a task cannot be put on a run of another team');
    const other = await store.withTenant('globex', async (s) => ({
      get: await s.teamTasks.get('red', task.id), list: await s.teamTasks.list('red'), run: await s.teamRuns.get(run.id),
      claim: await s.teamTasks.claim({ teamId: 'red', member: 'm', leaseMs: 60_000 }),
    }));
    t.same(other, { get: null, list: [], run: null, claim: null }, 'RLS hides the tenant\'s board');
    await t.rejects(store.withTenant('globex', (s) => s.q.query(
      `INSERT INTO team_tasks (tenant_id, team_id, run_id, seq, title, input) VALUES ('acme', 'red', $1, 99, 'forged', '')`, [run.id])),
    { code: '42501' });
    t.match(await acme((s) => s.teamTasks.get('red', task.id)), { status: 'pending' });
    t.ok((await store.teamTenants()).includes('acme'));
  });
});
