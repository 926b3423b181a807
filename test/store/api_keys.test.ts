import { hashApiKey } from '../../store/index.js';
import { eachBackend, seedTenants } from './backends.js';

const HOUR = 3_600_000;

await eachBackend(async (t, { store }) => {
  await seedTenants(store, 'acme', 'globex');
  const live = await store.withTenant('acme', (s) =>
    s.apiKeys.create({ name: 'ci', keyHash: hashApiKey('sk-live'), scopes: ['chat', 'agents:read'], expiresAt: new Date(Date.now() + HOUR) }),
  );

  t.test('a key is found by the SHA-256 of its value, with its tenant and scopes', async (t) => {
    const found = await store.findApiKeyByHash(hashApiKey('sk-live'));
    t.equal(found?.tenantId, 'acme');
    t.equal(found?.id, live.id);
    t.same(found?.scopes, ['chat', 'agents:read']);
  });

  t.test('only the hash is stored, never the key', async (t) => {
    const rows = await store.db.query<{ key_hash: string }>('SELECT key_hash FROM api_keys');
    t.same(rows.rows.map((r) => r.key_hash), [hashApiKey('sk-live')]);
    t.not(rows.rows[0].key_hash, 'sk-live');
  });

  t.test('an unknown hash finds nothing', async (t) => {
    t.equal(await store.findApiKeyByHash(hashApiKey('sk-wrong')), null);
  });

  t.test('a malformed hash is refused with INVALID_REQUEST', async (t) => {
    await t.rejects(store.findApiKeyByHash('sk-live'), { code: 'INVALID_REQUEST' });
  });

  t.test('an expired key is not found', async (t) => {
    await store.withTenant('acme', (s) =>
      s.apiKeys.create({ name: 'old', keyHash: hashApiKey('sk-old'), scopes: [], expiresAt: new Date(Date.now() - 1000) }),
    );
    t.equal(await store.findApiKeyByHash(hashApiKey('sk-old')), null);
  });

  t.test('a revoked key is not found', async (t) => {
    const k = await store.withTenant('acme', (s) =>
      s.apiKeys.create({ name: 'gone', keyHash: hashApiKey('sk-gone'), scopes: [], expiresAt: new Date(Date.now() + HOUR) }),
    );
    t.not(await store.findApiKeyByHash(hashApiKey('sk-gone')), null);
    await store.withTenant('acme', (s) => s.apiKeys.revoke(k.id));
    t.equal(await store.findApiKeyByHash(hashApiKey('sk-gone')), null);
  });

  t.test('another tenant can neither list nor revoke the key', async (t) => {
    const listed = await store.withTenant('globex', (s) => s.apiKeys.list());
    t.same(listed, []);
    await t.rejects(store.withTenant('globex', (s) => s.apiKeys.revoke(live.id)), { code: 'NOT_FOUND' });
    t.not(await store.findApiKeyByHash(hashApiKey('sk-live')), null);
  });

  t.test('using a key records when it was last used', async (t) => {
    const at = new Date(Date.now() - 5000);
    await store.withTenant('acme', (s) => s.apiKeys.touchLastUsed(live.id, at));
    const keys = await store.withTenant('acme', (s) => s.apiKeys.list());
    t.equal(keys.find((k) => k.id === live.id)?.lastUsedAt?.getTime(), at.getTime());
  });

  t.test('the same key cannot be registered twice', async (t) => {
    await t.rejects(
      store.withTenant('globex', (s) =>
        s.apiKeys.create({ name: 'dup', keyHash: hashApiKey('sk-live'), scopes: [], expiresAt: new Date(Date.now() + HOUR) }),
      ),
      { code: 'INVALID_REQUEST' },
    );
  });

  t.test('bad scopes are refused with INVALID_REQUEST', async (t) => {
    await t.rejects(
      store.withTenant('acme', (s) =>
        s.apiKeys.create({ name: 'x', keyHash: hashApiKey('sk-x'), scopes: ['has space'], expiresAt: new Date(Date.now() + HOUR) }),
      ),
      { code: 'INVALID_REQUEST' },
    );
  });

  t.test('a key created with an explicit id keeps it, and a random one is given otherwise', async (t) => {
    const given = await store.withTenant('acme', (s) =>
      s.apiKeys.create({ id: '3f9a1c0b2e7d', name: 'cli', keyHash: hashApiKey('sk-id'), scopes: [], expiresAt: new Date(Date.now() + HOUR) }),
    );
    t.equal(given.id, '3f9a1c0b2e7d');
    t.equal((await store.findApiKeyByHash(hashApiKey('sk-id')))?.id, '3f9a1c0b2e7d');
    t.match(live.id, /^[0-9a-f-]{36}$/);
  });
});
