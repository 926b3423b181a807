import { SYSTEM_TENANT, GENESIS_HASH, verifyAuditChain } from '../../store/index.js';
import { AUDIT_HEAD, auditHash } from '../../store/repos/audit.js';
import { eachBackend, seedTenants } from './backends.js';

/** Every node type of an `EXPLAIN (FORMAT JSON)` plan. */
function planNodes(plan: unknown): string[] {
  const node = plan as { 'Node Type'?: string; Plans?: unknown[] };
  return [...(node['Node Type'] === undefined ? [] : [node['Node Type']]), ...(node.Plans ?? []).flatMap(planNodes)];
}

await eachBackend(async (t, { store }) => {
  await seedTenants(store, 'acme', 'globex', 'tamper', 'gap', 'race', 'batch', 'dates');

  t.test('a batch append continues the chain, and single appends continue the batch', async (t) => {
    const one = await store.withTenant('batch', (s) => s.audit.append({ actor: 'a', action: 'x', outcome: 'success' }));
    const many = await store.withTenant('batch', (s) => s.audit.appendMany(
      Array.from({ length: 1_200 }, (_, i) => ({ actor: `u${i}`, action: 'chat.turn', outcome: 'success' as const, detail: { i } })),
    ));
    t.equal(many.length, 1_200);
    t.equal(many[0].prevHash, one.hash, 'the batch links to the row before it');
    t.same(many.map((r) => r.seq), Array.from({ length: 1_200 }, (_, i) => i + 2));
    const after = await store.withTenant('batch', (s) => s.audit.append({ actor: 'a', action: 'y', outcome: 'success' }));
    t.equal(after.prevHash, many[1_199].hash);
    t.same(await store.verifyAuditChain('batch'), { ok: true, checked: 1_202, headHash: after.hash });
  });

  t.test('the chain head is read from the end of the primary key, not by sorting the tenant\'s rows', async (t) => {
    // With sorting priced out, a plan still holds a Sort only when no index gives the order:
    // ordering by the float8 output column did, and every batch read the whole chain.
    const plan = await store.db.transaction(async (q) => {
      await q.query('SET LOCAL enable_sort = off');
      const res = await q.query<Record<string, unknown>>(`EXPLAIN (FORMAT JSON) ${AUDIT_HEAD}`, ['batch']);
      const cell = Object.values(res.rows[0] ?? {})[0];
      return (typeof cell === 'string' ? JSON.parse(cell) : cell) as { Plan: unknown }[];
    });
    const nodes = planNodes(plan[0]?.Plan);
    t.ok(nodes.length > 0, 'the plan was read');
    t.notOk(nodes.includes('Sort'), `no Sort node in ${nodes.join(' > ')}`);
  });

  t.test('a row hashes as it always has, so chains written before still verify', async (t) => {
    // Computed by the implementation that serialised the detail three times and hashed with a Hash object per row.
    const r = {
      tenantId: 'acme', seq: 7, at: new Date('2026-12-07T05:00:00.123Z'), actor: 'bench:42', action: 'channel.message', target: 'bench:42',
      sourceIp: null, outcome: 'success' as const, detail: { platform: 'telegram', chars: 18, nested: { b: [1, 'x', null], a: true } },
    };
    t.equal(auditHash('ab'.repeat(32), r), '452fed7cbdd7a78fdd0f4634c67c75cfbcc5a3299b137cb30a1727aff2403931');
    t.equal(auditHash('ab'.repeat(32), { ...r, detail: null, target: null }), '7e49ea70ba35bf09b55a6b381485336ab1dae1aa6824cf6eeb71c0c63ae9e21d');
  });

  t.test('a detail holding a Date is stored and hashed as the same JSON, so the chain verifies', async (t) => {
    const at = new Date('2026-12-07T05:00:00.000Z');
    const row = await store.withTenant('dates', (s) => s.audit.append({ actor: 'a', action: 'x', outcome: 'success', detail: { at, n: 1 } }));
    const [read] = await store.withTenant('dates', (s) => s.audit.list());
    t.same(read?.detail, { at: at.toISOString(), n: 1 });
    t.same(await store.verifyAuditChain('dates'), { ok: true, checked: 1, headHash: row.hash });
  });

  t.test('appended rows form a hash chain starting at the genesis hash', async (t) => {
    const [a, b] = await store.withTenant('acme', async (s) => [
      await s.audit.append({ actor: 'alice', action: 'chat.turn', outcome: 'success', sourceIp: '127.0.0.1' }),
      await s.audit.append({ actor: 'alice', action: 'tool.call', target: 'web_fetch', outcome: 'denied', detail: { z: 1, a: { y: 2, b: 3 } } }),
    ]);
    t.equal(a.seq, 1);
    t.equal(a.prevHash, GENESIS_HASH);
    t.equal(b.seq, 2);
    t.equal(b.prevHash, a.hash);
    t.same(await store.verifyAuditChain('acme'), { ok: true, checked: 2, headHash: b.hash });
  });

  t.test('each tenant has its own chain and sees only its own rows', async (t) => {
    const first = await store.withTenant('globex', (s) => s.audit.append({ actor: 'bob', action: 'admin.agent.update', outcome: 'success' }));
    t.equal(first.seq, 1);
    const seen = await store.withTenant('globex', (s) => s.audit.list());
    t.same(seen.map((r) => r.actor), ['bob']);
  });

  t.test('an auth failure with no tenant is recorded under the system tenant', async (t) => {
    const rec = await store.withTenant(SYSTEM_TENANT, (s) =>
      s.audit.append({ actor: 'anonymous', action: 'auth.failure', sourceIp: '127.0.0.1', outcome: 'failure' }),
    );
    t.equal(rec.tenantId, SYSTEM_TENANT);
    t.ok((await store.verifyAuditChain(SYSTEM_TENANT)).ok);
  });

  t.test('the app role can neither update nor delete audit rows', async (t) => {
    await t.rejects(
      store.withTenant('acme', (s) => s.q.query(`UPDATE audit_log SET outcome = 'success' WHERE seq = 2`)),
      { code: '42501' },
    );
    await t.rejects(store.withTenant('acme', (s) => s.q.query('DELETE FROM audit_log')), { code: '42501' });
  });

  t.test('even the owner is stopped by the append-only trigger', async (t) => {
    await t.rejects(store.db.query(`UPDATE audit_log SET actor = 'mallory' WHERE tenant_id = 'acme'`), {
      message: /append-only/,
    });
    await t.rejects(store.db.query(`DELETE FROM audit_log WHERE tenant_id = 'acme'`), { message: /append-only/ });
  });

  t.test('verification finds a row changed behind the trigger', async (t) => {
    await store.withTenant('tamper', async (s) => {
      for (let i = 0; i < 4; i++) await s.audit.append({ actor: 'carol', action: 'chat.turn', outcome: 'success' });
    });
    t.ok((await store.verifyAuditChain('tamper')).ok);
    await store.db.transaction(async (q) => {
      await q.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update');
      await q.query(`UPDATE audit_log SET outcome = 'failure' WHERE tenant_id = 'tamper' AND seq = 3`);
      await q.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update');
    });
    const verdict = await store.verifyAuditChain('tamper');
    t.equal(verdict.ok, false);
    t.equal(verdict.brokenAt, 3);
    t.equal(verdict.checked, 2);
  });

  t.test('verification finds a row removed from the middle', async (t) => {
    await store.withTenant('gap', async (s) => {
      for (let i = 0; i < 3; i++) await s.audit.append({ actor: 'dave', action: 'apikey.use', outcome: 'success' });
    });
    await store.db.transaction(async (q) => {
      await q.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update');
      await q.query(`DELETE FROM audit_log WHERE tenant_id = 'gap' AND seq = 2`);
      await q.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update');
    });
    const verdict = await store.verifyAuditChain('gap');
    t.equal(verdict.ok, false);
    t.equal(verdict.brokenAt, 2);
  });

  t.test('concurrent appends for one tenant still form one unbroken chain', async (t) => {
    const n = 12;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        store.withTenant('race', (s) => s.audit.append({ actor: `w${i}`, action: 'chat.turn', outcome: 'success' })),
      ),
    );
    const verdict = await store.verifyAuditChain('race');
    t.same({ ok: verdict.ok, checked: verdict.checked }, { ok: true, checked: n });
  });

  t.test('an invalid event is refused with INVALID_REQUEST', async (t) => {
    await t.rejects(
      store.withTenant('acme', (s) => s.audit.append({ actor: '', action: 'x', outcome: 'success' })),
      { code: 'INVALID_REQUEST' },
    );
    await t.rejects(
      store.withTenant('acme', (s) =>
        s.audit.append({ actor: 'a', action: 'x', outcome: 'maybe' as unknown as 'success' }),
      ),
      { code: 'INVALID_REQUEST' },
    );
  });

  t.test('verifying every chain reports each tenant, broken ones included', async (t) => {
    const all = await store.verifyAllAuditChains();
    t.equal(all.get('acme')?.ok, true);
    t.equal(all.get(SYSTEM_TENANT)?.ok, true);
    t.equal(all.get('tamper')?.ok, false);
    t.equal(all.get('gap')?.ok, false);
  });

  t.test('verification pages through a long chain and stops at maxRows', async (t) => {
    const full = await store.db.transaction((q) => verifyAuditChain(q, 'race', { pageSize: 5 }));
    t.same({ ok: full.ok, checked: full.checked }, { ok: true, checked: 12 });
    const head = (await store.withTenant('race', (s) => s.audit.list({ afterSeq: 11 })))[0];
    t.equal(full.headHash, head.hash);
    const part = await store.db.transaction((q) => verifyAuditChain(q, 'race', { pageSize: 5, maxRows: 7 }));
    t.same({ ok: part.ok, checked: part.checked }, { ok: true, checked: 7 });
  });
});
