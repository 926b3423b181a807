import t from 'tap';
import { VerifiedTokenCache, type TokenCacheOptions } from '../../security/token_cache.js';
import type { Principal } from '../../security/types.js';

const T0 = Date.UTC(2026, 0, 1);
const alice: Principal = { tenant: 'acme', user: 'alice', scopes: ['chat'], via: 'jwt', expiresAt: T0 + 600_000 };

function cache(patch: Partial<TokenCacheOptions> = {}) {
  const clock = { now: T0 };
  const c = new VerifiedTokenCache({ maxEntries: 3, maxTokenChars: 100, maxAgeMs: 60_000, clockToleranceMs: 30_000, now: () => clock.now, ...patch });
  return { c, clock };
}

t.test('a remembered token gives back its principal, as a copy the caller may change', async (t) => {
  const { c } = cache();
  c.set('tok', alice);
  const p = c.get('tok');
  t.same(p, alice);
  p?.scopes.push('admin');
  t.same(c.get('tok')?.scopes, ['chat']);
  t.equal(c.get('other'), undefined);
});

t.test('an entry is served until the token expires, clock tolerance included', async (t) => {
  const { c, clock } = cache({ maxAgeMs: 3_600_000 });
  c.set('tok', { ...alice, expiresAt: T0 + 10_000 });
  clock.now = T0 + 39_999;
  t.ok(c.get('tok'), 'within exp + tolerance');
  clock.now = T0 + 40_000;
  t.equal(c.get('tok'), undefined, 'past exp + tolerance');
  t.equal(c.size, 0, 'and it is gone');
});

t.test('an entry is served at most maxAgeMs after verification, even for a long-lived token', async (t) => {
  const { c, clock } = cache();
  c.set('tok', { ...alice, expiresAt: undefined });
  clock.now = T0 + 59_999;
  t.ok(c.get('tok'));
  clock.now = T0 + 60_000;
  t.equal(c.get('tok'), undefined);
});

t.test('the least recently used entry goes first when full', async (t) => {
  const { c } = cache();
  c.set('a', alice);
  c.set('b', alice);
  c.set('c', alice);
  t.ok(c.get('a'), 'a is now the most recent');
  c.set('d', alice);
  t.equal(c.size, 3);
  t.equal(c.get('b'), undefined, 'b was the oldest');
  t.ok(c.get('a'));
  t.ok(c.get('c'));
  t.ok(c.get('d'));
});

t.test('long tokens, already expired tokens and a zero-size cache are not kept', async (t) => {
  const { c } = cache();
  c.set('x'.repeat(101), alice);
  c.set('old', { ...alice, expiresAt: T0 - 30_000 });
  t.equal(c.size, 0);
  const off = cache({ maxEntries: 0 }).c;
  off.set('tok', alice);
  t.equal(off.get('tok'), undefined);
});
