import t from 'tap';
import {
  constantTimeEqual,
  createApiKeyAuthenticator,
  createCredentialAuthenticator,
  generateApiKey,
  hashApiKey,
  looksLikeApiKey,
  parseApiKey,
  verifyApiKey,
} from '../../security/api_keys.js';
import type { ApiKeyRecord } from '../../security/api_keys.js';
import { createJwtAuthenticator, signToken } from '../../security/jwt.js';

t.test('generated keys have the trp_ shape with a lookup id and 32 random bytes', async (t) => {
  const { key, id, hash } = generateApiKey();
  t.match(key, /^trp_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  t.equal(key.slice(4, 16), id);
  t.equal(Buffer.from(key.slice(17), 'base64url').length, 32);
  t.equal(hash, hashApiKey(key));
});

t.test('every generated key is different', async (t) => {
  const keys = new Set(Array.from({ length: 200 }, () => generateApiKey().key));
  t.equal(keys.size, 200);
});

t.test('hashApiKey is SHA-256 hex', async (t) => {
  t.equal(hashApiKey('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

t.test('verifyApiKey accepts the right key and refuses any other', async (t) => {
  const a = generateApiKey();
  const b = generateApiKey();
  t.ok(verifyApiKey(a.key, a.hash));
  t.ok(verifyApiKey(a.key, a.hash.toUpperCase()));
  t.notOk(verifyApiKey(b.key, a.hash));
  t.notOk(verifyApiKey(a.key, 'short'));
});

t.test('constantTimeEqual compares content, including different lengths', async (t) => {
  t.ok(constantTimeEqual('same', 'same'));
  t.notOk(constantTimeEqual('same', 'sama'));
  t.notOk(constantTimeEqual('same', 'same-but-longer'));
  t.notOk(constantTimeEqual('', 'x'));
});

t.test('looksLikeApiKey tells API keys from JWTs and junk', async (t) => {
  const jwt = await signToken({ secret: 'x'.repeat(32), tenant: 't', user: 'u', ttlSec: 60 });
  t.ok(looksLikeApiKey(generateApiKey().key));
  t.notOk(looksLikeApiKey(jwt));
  t.notOk(looksLikeApiKey('trp_short'));
  t.notOk(looksLikeApiKey('sk-abc'));
  t.equal(parseApiKey('nope'), null);
});

function store(records: Map<string, ApiKeyRecord>): { lookup(id: string): Promise<ApiKeyRecord | null>; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async lookup(id: string) {
      calls.push(id);
      return records.get(id) ?? null;
    },
  };
}

t.test('the API key authenticator resolves a stored key to its principal', async (t) => {
  const g = generateApiKey();
  const s = store(new Map([[g.id, { hash: g.hash, tenant: 'acme', user: 'bot', scopes: ['chat:send'] }]]));
  const auth = createApiKeyAuthenticator(s);
  t.same(await auth.authenticate(g.key), { tenant: 'acme', user: 'bot', scopes: ['chat:send'], via: 'api_key' });
  t.same(s.calls, [g.id]);
});

t.test('the API key authenticator refuses wrong secrets, unknown ids, revoked and expired keys', async (t) => {
  const g = generateApiKey();
  const revoked = generateApiKey();
  const expired = generateApiKey();
  const records = new Map<string, ApiKeyRecord>([
    [g.id, { hash: g.hash, tenant: 'a', user: 'u', scopes: [] }],
    [revoked.id, { hash: revoked.hash, tenant: 'a', user: 'u', scopes: [], revoked: true }],
    [expired.id, { hash: expired.hash, tenant: 'a', user: 'u', scopes: [], expiresAt: 1000 }],
  ]);
  const auth = createApiKeyAuthenticator({ ...store(records), now: () => 2000 });
  const forged = `trp_${g.id}_${generateApiKey().key.slice(17)}`;
  await t.rejects(auth.authenticate(forged), { code: 'UNAUTHORIZED', reason: 'bad_signature' });
  await t.rejects(auth.authenticate(generateApiKey().key), { code: 'UNAUTHORIZED', reason: 'bad_signature' });
  await t.rejects(auth.authenticate(revoked.key), { code: 'UNAUTHORIZED', reason: 'revoked' });
  await t.rejects(auth.authenticate(expired.key), { code: 'UNAUTHORIZED', reason: 'expired' });
  await t.rejects(auth.authenticate('garbage'), { code: 'UNAUTHORIZED', reason: 'malformed' });
});

t.test('the credential authenticator routes by shape', async (t) => {
  const secret = 'y'.repeat(32);
  const g = generateApiKey();
  const auth = createCredentialAuthenticator(
    createJwtAuthenticator({ secret }),
    createApiKeyAuthenticator(store(new Map([[g.id, { hash: g.hash, tenant: 'acme', user: 'bot', scopes: [] }]]))),
  );
  t.equal((await auth.authenticate(g.key)).via, 'api_key');
  const jwt = await signToken({ secret, tenant: 'acme', user: 'alice', ttlSec: 60 });
  t.equal((await auth.authenticate(jwt)).via, 'jwt');
});
