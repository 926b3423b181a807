// A tenant's providers and MCP servers: `countForCreate` takes the tenant's creation lock
// for the table before it counts, so a limit checked on that count in the creating
// transaction holds against concurrent creations, on PGlite's one connection and on
// PostgreSQL's pools (two stores here: two gateways sharing one database).
import { eachBackend, seedTenants } from './backends.js';
import type { Store } from '../../store/index.js';

const MAX = 4;

/** Creates `id` unless the tenant holds `max` servers already, in one transaction; true when created. */
const createWithin = (store: Store, tenant: string, id: string, max = MAX) => store.withTenant(tenant, async (s) => {
  if ((await s.mcpServers.countForCreate()) >= max) return false;
  await s.mcpServers.put(id, { url: 'http://127.0.0.1:1/mcp' });
  return true;
});

await eachBackend(async (t, { kind, store, openAnother }) => {
  await seedTenants(store, 'acme', 'globex');
  const stores = kind === 'postgres' ? [store, await openAnother()] : [store];

  t.test('a limit counted by countForCreate holds against concurrent creations from every store', async (t) => {
    for (let i = 0; i < MAX - 1; i++) t.ok(await createWithin(store, 'acme', `held${i}`));
    const created = await Promise.all(Array.from({ length: 8 }, (_, i) => createWithin(stores[i % stores.length], 'acme', `racer${i}`)));
    t.equal(created.filter(Boolean).length, 1, 'one creation wins');
    t.equal((await store.withTenant('acme', (s) => s.mcpServers.list())).length, MAX, 'the tenant holds exactly its limit');
  });

  t.test("the creation lock is one tenant's and one table's", { skip: kind === 'pglite' && 'PGlite runs one transaction at a time' }, async (t) => {
    let locked!: () => void;
    let release!: () => void;
    const taken = new Promise<void>((r) => { locked = r; });
    const done = new Promise<void>((r) => { release = r; });
    const holder = store.withTenant('acme', async (s) => {
      await s.providers.countForCreate();
      locked();
      await done;
    });
    await taken;
    // Were the lock wider than (tenant, table), these would wait for the holder, which waits for them.
    t.ok(await createWithin(stores[1], 'globex', 'other-tenant'), "another tenant's creation goes ahead");
    t.ok(await createWithin(stores[1], 'acme', 'other-table', 1000), "the tenant's creation in another table goes ahead");
    release();
    await holder;
  });
});
