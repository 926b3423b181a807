// Team members and reviewers run on the tenant's agent definitions in the
// store, as chat runs do: a member PATCHed through /admin/v1 works its next
// task on the new definition without a restart, and an agent that exists only
// in the store (created through the admin API) can be a team member. A task
// for a member the tenant has not defined is refused with an error naming it.
// Through the gateway, on embedded PGlite and on PostgreSQL.
import { randomBytes } from 'node:crypto';
import t, { type Test } from 'tap';
import { signToken } from '../../security/jwt.js';
import { postgresUrl, requireService } from '../helpers/services.js';
import { Client, eventually, SECRET, sent, startTeamGateway, userMessages, type TeamGateway } from './teams_harness.js';
import { dropSchemaOnTeardown } from '../store/backends.js';

const pgUrl = await postgresUrl();
const PATCHED = 'You are the patched writer: answer in one line.';

const create = (id: string, title: string, assignee: string) => ({ id, name: 'team_task_create', arguments: { title, input: `Do: ${title}`, assignee } });

interface BoardTask { title: string; status: string; assignee: string | null }

/** The result of the task titled `title` as the lead was told it. */
function told(tg: TeamGateway, title: string): string | undefined {
  const re = new RegExp(`"${title}": done\n {2}result: (.*)`);
  for (const m of userMessages(tg.fakes.get('lead'))) {
    const hit = re.exec(m);
    if (hit !== null) return hit[1];
  }
  return undefined;
}

async function admin(tg: TeamGateway, method: string, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const token = await signToken({ secret: SECRET, tenant: tg.tenant, user: 'ops', scopes: ['admin'], ttlSec: 600 });
  const res = await fetch(`${tg.gw.url}/admin/v1${path}`, {
    method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** One lead turn on a fresh connection; resolves once the team run it started ended and the lead was told. */
async function leadTurn(t: Test, tg: TeamGateway, message: string): Promise<void> {
  const endNotes = (): number => userMessages(tg.fakes.get('lead')).filter((m) => m.startsWith('[team blog') && /ended: done/.test(m)).length;
  const before = endNotes();
  const client = await Client.open(tg.gw.port, tg.token);
  t.teardown(() => client.close());
  await client.call('team.watch', { team: 'blog' });
  t.match(await client.turn({ message, agent: 'lead', sessionKey: 'blog-lead' }), { event: 'chat.final' });
  const ended = await client.waitFor((f) => f.event?.startsWith('team.run.') === true, 90_000, 'the end of the team run');
  t.equal(ended.event, 'team.run.done', 'the run ended done');
  t.ok(await eventually(() => endNotes() > before, 60_000), 'the lead was told the run ended');
}

async function board(tg: TeamGateway): Promise<BoardTask[]> {
  const client = await Client.open(tg.gw.port, tg.token);
  try {
    return (await client.call('team.board', { team: 'blog' })).payload?.tasks as BoardTask[];
  } finally {
    client.close();
  }
}

async function suite(t: Test, env: Record<string, string>): Promise<void> {
  // "scribe" is in no config file: the gateway starts, and tenants may define it in the store.
  const tg = await startTeamGateway(t, {
    lead: { fallback: { text: 'Noted.' } },
    writer: { script: [{ text: 'the first line' }, { text: 'the second line' }] },
  }, [{ id: 'blog', lead: 'lead', members: ['writer', 'scribe'] }], env);
  const lead = tg.fakes.get('lead');
  const writer = tg.fakes.get('writer');

  t.test('a task for a member the tenant has not defined is refused with an error naming it; the others work', async (t) => {
    lead?.script({ toolCalls: [create('c1', 'before', 'writer'), create('c2', 'early', 'scribe')] }, { text: 'on it' });
    await leadTurn(t, tg, 'first round');
    const results = sent(lead, 1).filter((m) => m.role === 'tool');
    t.match(results.find((m) => m.tool_call_id === 'c1')?.content, /"taskId"/, 'the writer\'s task was created');
    t.match(results.find((m) => m.tool_call_id === 'c2')?.content,
      new RegExp(`^error: "scribe" \\(a member of team blog\\) is not an agent of tenant ${tg.tenant}: define it \\(PUT /admin/v1/agents/:id\\)`));
    t.match(await board(tg), [{ title: 'before', status: 'done', assignee: 'writer' }], 'only the writer\'s task is on the board');
    t.equal(told(tg, 'before'), 'the first line', 'and the lead got its result');
    t.notOk(sent(writer, 0).some((m) => m.role === 'system'), 'the writer had no system prompt yet');
  });

  t.test('a member PATCHed through the admin API works its next task on the new definition; a store-only agent is a member', async (t) => {
    t.match(await admin(tg, 'PATCH', '/agents/writer', { systemPrompt: PATCHED }), { status: 200, body: { id: 'writer', systemPrompt: PATCHED } });
    t.match(await admin(tg, 'PUT', '/agents/scribe', { description: 'made through the API', model: 'sim-1', provider: { kind: 'simulated', tokens: 4, latencyMs: 0 } }),
      { status: 200, body: { id: 'scribe' } });
    const requests = writer?.requests.length ?? 0;
    lead?.script({ toolCalls: [create('c3', 'after', 'writer'), create('c4', 'scribed', 'scribe')] }, { text: 'again' });
    await leadTurn(t, tg, 'second round');
    const results = (lead?.requests ?? []).flatMap((_, i) => sent(lead, i)).filter((m) => m.role === 'tool');
    t.match(results.find((m) => m.tool_call_id === 'c4')?.content, /"taskId"/, 'the scribe\'s task was created');
    const tasks = await board(tg);
    t.match(tasks.find((x) => x.title === 'after'), { status: 'done' });
    t.equal(told(tg, 'after'), 'the second line');
    t.match(tasks.find((x) => x.title === 'scribed'), { status: 'done', assignee: 'scribe' }, 'the store-only agent did its task');
    t.equal(told(tg, 'scribed')?.trim().split(/\s+/).length, 4, 'with the simulated provider its definition names (four tokens)');
    t.equal(writer?.requests.length, requests + 1, 'the writer worked the new task');
    t.match(sent(writer, requests).find((m) => m.role === 'system')?.content, PATCHED, 'on the PATCHed definition, without a restart');
  });
}

t.test('on embedded PGlite', (t) => suite(t, {}));

t.test('on PostgreSQL', { skip: requireService('PostgreSQL', pgUrl) }, async (t) => {
  const schema = `troupe_teams_store_${randomBytes(4).toString('hex')}`;
  dropSchemaOnTeardown(t, pgUrl as string, schema);
  await suite(t, { TROUPE_STORE: 'postgres', DATABASE_URL: pgUrl as string, TROUPE_DB_SCHEMA: schema });
});
