import { randomBytes } from 'node:crypto';
import { openStore } from '../../store/index.js';
import { eachBackend, seedTenants } from './backends.js';

await eachBackend(async (t, { kind, store }) => {
  await seedTenants(store, 'acme', 'globex');
  const theirs = await store.withTenant('globex', async (s) => {
    const session = await s.sessions.open({ key: 'globex-chat', agentId: 'helper' });
    await s.messages.append([{ sessionId: session.id, role: 'user', content: 'globex secret plans' }]);
    await s.secrets.put('openai', { ciphertext: 'sealed-globex', keyVersion: 1 });
    await s.usage.appendMany([{
      at: new Date(), runId: 'r1', user: 'u', agent: 'helper', provider: 'simulated', model: 'm', inputTokens: 5, outputTokens: 3,
      cachedTokens: 0, costUsd: 0.01, priced: true, latencyMs: 10, outcome: 'ok',
    }]);
    return session;
  });
  const ours = await store.withTenant('acme', (s) => s.sessions.open({ key: 'acme-chat', agentId: 'helper' }));

  t.test('a tenant reads none of another tenant rows, even by their id', async (t) => {
    await store.withTenant('acme', async (s) => {
      t.equal(await s.sessions.get(theirs.id), null);
      t.equal(await s.secrets.get('openai'), null);
      t.same((await s.messages.list(theirs.id)).items, []);
      const day = { from: new Date(Date.now() - 86_400_000), to: new Date(Date.now() + 60_000), groupBy: 'tenant' as const };
      t.same(await s.usage.summarize(day), [], "no usage of another tenant's runs");
      const raw = await s.q.query<{ n: number }>(`SELECT count(*)::int AS n FROM sessions WHERE tenant_id = 'globex'`);
      t.equal(raw.rows[0].n, 0);
    });
  });

  t.test('the owning tenant still reads its rows', async (t) => {
    const seen = await store.withTenant('globex', (s) => s.sessions.get(theirs.id));
    t.equal(seen?.key, 'globex-chat');
    const day = { from: new Date(Date.now() - 86_400_000), to: new Date(Date.now() + 60_000), groupBy: 'tenant' as const };
    t.match(await store.withTenant('globex', (s) => s.usage.summarize(day)), [{ group: 'globex', runs: 1, inputTokens: 5, outputTokens: 3, costUsd: 0.01 }]);
    t.match(await store.usageSummary(undefined, day), [{ group: 'globex', runs: 1 }], 'the owner sees every tenant');
  });

  t.test('inserting a row with a forged tenant_id is refused', async (t) => {
    await t.rejects(
      store.withTenant('acme', (s) =>
        s.q.query(`INSERT INTO sessions (tenant_id, key, agent_id) VALUES ('globex', 'forged', 'x')`),
      ),
      { code: '42501' },
    );
    await t.rejects(
      store.withTenant('acme', (s) =>
        s.q.query(`INSERT INTO secrets (tenant_id, name, ciphertext, key_version) VALUES ('globex', 'planted', 'c', 1)`),
      ),
      { code: '42501' },
    );
    t.equal(await store.withTenant('globex', (s) => s.secrets.get('planted')), null);
  });

  t.test('updating another tenant row by id changes nothing', async (t) => {
    const res = await store.withTenant('acme', (s) =>
      s.q.query(`UPDATE sessions SET title = 'pwned' WHERE id = $1`, [theirs.id]),
    );
    t.equal(res.rowCount, 0);
    await t.rejects(store.withTenant('acme', (s) => s.sessions.touch(theirs.id)), { code: 'NOT_FOUND' });
    const after = await store.withTenant('globex', (s) => s.sessions.get(theirs.id));
    t.equal(after?.title, null);
  });

  t.test('moving an own row into another tenant is refused', async (t) => {
    await t.rejects(
      store.withTenant('acme', (s) => s.q.query(`UPDATE sessions SET tenant_id = 'globex' WHERE id = $1`, [ours.id])),
      { code: '42501' },
    );
  });

  t.test('deleting another tenant row removes nothing', async (t) => {
    const res = await store.withTenant('acme', (s) => s.q.query('DELETE FROM sessions WHERE id = $1', [theirs.id]));
    t.equal(res.rowCount, 0);
    t.not(await store.withTenant('globex', (s) => s.sessions.get(theirs.id)), null);
  });

  t.test('without a tenant setting the app role sees nothing and writes nothing', async (t) => {
    const seen = await store.db.transaction(async (q) => {
      await q.query(`SET LOCAL ROLE troupe_app`);
      return (await q.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions')).rows[0].n;
    });
    t.equal(seen, 0);
    await t.rejects(
      store.db.transaction(async (q) => {
        await q.query(`SET LOCAL ROLE troupe_app`);
        await q.query(`INSERT INTO sessions (tenant_id, key, agent_id) VALUES ('acme', 'no-tenant', 'x')`);
      }),
      { code: '42501' },
    );
  });

  t.test('an empty tenant setting fails closed too', async (t) => {
    const seen = await store.db.transaction(async (q) => {
      await q.query(`SELECT set_config('role', 'troupe_app', true), set_config('troupe.tenant_id', '', true)`);
      return (await q.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions')).rows[0].n;
    });
    t.equal(seen, 0);
  });

  t.test('the tenant setting does not outlive its unit of work', async (t) => {
    await store.withTenant('acme', (s) => s.sessions.list());
    const after = await store.db.transaction(async (q) => {
      await q.query(`SET LOCAL ROLE troupe_app`);
      return (await q.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions')).rows[0].n;
    });
    t.equal(after, 0);
  });

  t.test('the app role cannot switch row security off', async (t) => {
    await t.rejects(
      store.withTenant('acme', async (s) => {
        await s.q.query('SET LOCAL row_security = off');
        return s.q.query('SELECT * FROM sessions');
      }),
      { code: '42501' },
    );
  });

  t.test('the app role neither owns the tenant tables nor bypasses RLS, and RLS is forced', async (t) => {
    const role = await store.db.query<{ rolsuper: boolean; rolbypassrls: boolean }>(
      `SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'troupe_app'`,
    );
    t.same(role.rows, [{ rolsuper: false, rolbypassrls: false }]);
    const tables = await store.db.query<{ relname: string; owner: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>(
      `SELECT c.relname, pg_get_userbyid(c.relowner) AS owner, c.relrowsecurity, c.relforcerowsecurity
       FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
         AND c.relname <> 'schema_migrations'`,
    );
    // 001's eleven tables, 002's channel_pairings, 003's usage_events, 004's team_runs and team_tasks,
    // 008's providers, mcp_servers and config_seeds.
    t.equal(tables.rows.length, 18);
    for (const name of ['channel_pairings', 'usage_events', 'team_runs', 'team_tasks', 'providers', 'mcp_servers', 'config_seeds']) {
      t.ok(tables.rows.some((r) => r.relname === name), `${name} is a tenant table`);
    }
    for (const r of tables.rows) {
      t.not(r.owner, 'troupe_app', `${r.relname} is not owned by the app role`);
      t.ok(r.relrowsecurity && r.relforcerowsecurity, `${r.relname} has forced RLS`);
    }
  });

  t.test('a malformed tenant id is refused before any SQL runs', async (t) => {
    for (const bad of ['', "acme' OR '1'='1", 'x'.repeat(65)]) {
      await t.rejects(store.withTenant(bad, async () => undefined), { code: 'INVALID_REQUEST' });
    }
  });

  if (kind === 'postgres') {
    t.test('with an app-role login pool even RESET ROLE cannot reach the owner', async (t) => {
      const login = `troupe_gw_${randomBytes(5).toString('hex')}`;
      await store.db.exec(`CREATE ROLE ${login} LOGIN NOINHERIT NOBYPASSRLS; GRANT troupe_app TO ${login};`);
      const schema = (await store.db.query<{ s: string }>('SELECT current_schema() AS s')).rows[0].s;
      const owner = new URL(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test');
      const app = new URL(owner);
      app.username = login;
      const split = await openStore({ databaseUrl: owner.toString(), appDatabaseUrl: app.toString(), schema, poolSize: 2 });
      try {
        const seen = await split.withTenant('acme', (s) => s.sessions.get(ours.id));
        t.equal(seen?.key, 'acme-chat', 'tenant work runs on the app pool');
        await t.rejects(
          split.withTenant('acme', async (s) => {
            await s.q.query('RESET ROLE');
            return s.q.query(`SELECT * FROM ${schema}.sessions`);
          }),
          { code: '42501' },
        );
      } finally {
        await split.close();
        await store.db.exec(`DROP ROLE ${login}`);
      }
    });
  }
});
