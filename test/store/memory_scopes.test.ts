// Memory scopes are namespaces inside a tenant; row-level security keeps tenants
// apart underneath them. A forged tenant id never reaches another tenant's memory.
import t from 'tap';
import { visibleNamespaces } from '../../tools/builtin/memory_scope.js';
import { eachBackend, seedTenants } from './backends.js';

await eachBackend(async (t, { store }) => {
  await seedTenants(store, 'acme', 'globex');
  // Both tenants have a team called "red": the team id alone must not join them.
  await store.withTenant('acme', (s) => s.memory.save({ content: 'acme red team launch code phrase', namespace: 'team:red' }));
  await store.withTenant('globex', (s) => s.memory.save({ content: 'globex red team launch plan', namespace: 'team:red' }));

  t.test('one team id in two tenants: each tenant sees only its own team memory', async (t) => {
    const acme = await store.recallFor('acme', 'red team launch', { namespaces: ['team:red'] });
    t.same(acme.map((h) => h.content), ['acme red team launch code phrase']);
    const globex = await store.recallFor('globex', 'red team launch', { namespaces: ['team:red'] });
    t.same(globex.map((h) => h.content), ['globex red team launch plan']);
  });

  t.test('an insert that forges another tenant id is refused by RLS', async (t) => {
    await t.rejects(store.withTenant('acme', (s) => s.q.query(
      "INSERT INTO memory (tenant_id, namespace, content, embedding, embedder) VALUES ('globex', 'team:red', 'planted', '{1}', 'x')",
    )), /row-level security/);
    const globex = await store.recallFor('globex', 'planted', { namespaces: ['team:red'] });
    t.notOk(globex.some((h) => h.content === 'planted'));
  });

  t.test('moving a memory to another tenant is refused by RLS', async (t) => {
    const item = await store.rememberFor('acme', { content: 'to be moved', namespace: 'session:s1' });
    await t.rejects(store.withTenant('acme', (s) => s.q.query("UPDATE memory SET tenant_id = 'globex' WHERE id = $1", [item.id])), /row-level security/);
  });

  t.test('reading another tenant by naming it in SQL finds nothing', async (t) => {
    const rows = await store.withTenant('acme', (s) => s.q.query("SELECT id FROM memory WHERE tenant_id = 'globex'"));
    t.equal(rows.rows.length, 0);
  });

  t.test('an unknown or empty tenant setting sees no memory at all', async (t) => {
    const forged = await store.recallFor('nobody', 'red team launch', { namespaces: ['team:red'] });
    t.same(forged, []);
  });

  t.test('team scope: what one team saves its members find; another team of the tenant, a non-member and another tenant do not', async (t) => {
    // The namespaces each caller's memory_search covers (every scope it has), as the tool builds them.
    const redMember = visibleNamespaces({ sessionId: 'team:red:t1', agentId: 'writer', teamId: 'red' });
    const redLead = visibleNamespaces({ sessionId: 'lead-chat', agentId: 'editor', teamId: 'red' });
    const blueMember = visibleNamespaces({ sessionId: 'team:blue:t2', agentId: 'writer', teamId: 'blue' });
    const loner = visibleNamespaces({ sessionId: 'chat', agentId: 'writer' });
    t.ok(redMember.includes('team:red') && !loner.some((n) => n.startsWith('team:')));
    await store.rememberFor('acme', { content: 'red team mango deadline Thursday', namespace: 'team:red' });
    await store.rememberFor('acme', { content: 'blue team mango budget', namespace: 'team:blue' });
    const seen = async (tenant: string, namespaces: string[]): Promise<string[]> =>
      // The vector side also ranks loosely similar notes (the red notes above): keep the mango ones.
      (await store.recallFor(tenant, 'mango', { namespaces, limit: 20 })).map((h) => h.content).filter((c) => c.includes('mango')).sort();
    t.same(await seen('acme', redMember), ['red team mango deadline Thursday'], 'a member of red');
    t.same(await seen('acme', redLead), ['red team mango deadline Thursday'], 'red\'s lead');
    t.same(await seen('acme', blueMember), ['blue team mango budget'], 'a member of blue sees blue only');
    t.same(await seen('acme', loner), [], 'an agent outside any team sees neither');
    t.same(await seen('globex', redMember), [], 'team red of another tenant sees nothing of acme\'s red');
    const sql = await store.withTenant('globex', (s) => s.q.query("SELECT count(*)::int AS n FROM memory WHERE namespace = 'team:red' AND content LIKE '%mango%'"));
    t.equal(sql.rows[0].n, 0, 'nor does plain SQL under the other tenant');
  });

  t.test('a search sees only the namespaces it names (scopes divide a tenant)', async (t) => {
    await store.rememberFor('acme', { content: 'session-only walnut', namespace: 'session:s9' });
    await store.rememberFor('acme', { content: 'agent-wide walnut', namespace: 'agent:helper' });
    const agentOnly = await store.recallFor('acme', 'walnut', { namespaces: ['agent:helper'] });
    t.same(agentOnly.map((h) => h.content), ['agent-wide walnut']);
    const both = await store.recallFor('acme', 'walnut', { namespaces: ['agent:helper', 'session:s9'] });
    t.same(both.map((h) => h.content).sort(), ['agent-wide walnut', 'session-only walnut']);
  });
});
t.pass('suite loaded');
