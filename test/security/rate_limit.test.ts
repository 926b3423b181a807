import t from 'tap';
import { CompositeLimiter, TokenBucketLimiter, type PeekableRateLimiter } from '../../security/rate_limit.js';
import type { RateDecision } from '../../security/types.js';

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let ms = start;
  return { now: () => ms, advance: (d: number) => { ms += d; } };
}

t.test('a fresh bucket allows a burst of exactly capacity', async (t) => {
  const c = clock();
  const limiter = new TokenBucketLimiter({ capacity: 5, refillPerSec: 1, now: c.now });
  const remaining: number[] = [];
  for (let i = 0; i < 5; i++) {
    const d = await limiter.take('k');
    t.ok(d.allowed);
    remaining.push(d.remaining);
  }
  t.same(remaining, [4, 3, 2, 1, 0]);
  t.notOk((await limiter.take('k')).allowed);
});

t.test('tokens refill at refillPerSec', async (t) => {
  const c = clock();
  const limiter = new TokenBucketLimiter({ capacity: 2, refillPerSec: 2, now: c.now });
  await limiter.take('k', 2);
  t.notOk((await limiter.take('k')).allowed);
  c.advance(499);
  t.notOk((await limiter.take('k')).allowed);
  c.advance(1);
  t.ok((await limiter.take('k')).allowed);
});

t.test('refill never exceeds capacity', async (t) => {
  const c = clock();
  const limiter = new TokenBucketLimiter({ capacity: 3, refillPerSec: 10, now: c.now });
  await limiter.take('k', 3);
  c.advance(60_000);
  t.equal((await limiter.take('k')).remaining, 2);
});

t.test('retryAfterMs is exactly the time to cover the deficit', async (t) => {
  const c = clock();
  const limiter = new TokenBucketLimiter({ capacity: 10, refillPerSec: 4, now: c.now });
  await limiter.take('k', 10);
  t.same(await limiter.take('k'), { allowed: false, remaining: 0, retryAfterMs: 250 });
  c.advance(100); // 0.4 tokens now; 0.6 missing at 4/s = 150 ms
  t.equal((await limiter.take('k')).retryAfterMs, 150);
  c.advance(150);
  t.ok((await limiter.take('k')).allowed);
});

t.test('retryAfterMs accounts for a cost greater than one', async (t) => {
  const c = clock();
  const limiter = new TokenBucketLimiter({ capacity: 10, refillPerSec: 3, now: c.now });
  await limiter.take('k', 8); // 2 left
  const d = await limiter.take('k', 5); // 3 missing at 3/s
  t.same(d, { allowed: false, remaining: 2, retryAfterMs: 1000 });
  c.advance(999);
  t.notOk((await limiter.take('k', 5)).allowed);
  c.advance(1);
  t.same(await limiter.take('k', 5), { allowed: true, remaining: 0, retryAfterMs: 0 });
});

t.test('a denied take consumes nothing', async (t) => {
  const c = clock();
  const limiter = new TokenBucketLimiter({ capacity: 4, refillPerSec: 1, now: c.now });
  await limiter.take('k', 3);
  t.notOk((await limiter.take('k', 2)).allowed);
  t.ok((await limiter.take('k', 1)).allowed);
});

t.test('keys have independent buckets', async (t) => {
  const limiter = new TokenBucketLimiter({ capacity: 1, refillPerSec: 1, now: clock().now });
  t.ok((await limiter.take('a')).allowed);
  t.notOk((await limiter.take('a')).allowed);
  t.ok((await limiter.take('b')).allowed);
});

t.test('a cost above capacity or not positive is refused', async (t) => {
  const limiter = new TokenBucketLimiter({ capacity: 5, refillPerSec: 1 });
  await t.rejects(limiter.take('k', 6), { code: 'INVALID_REQUEST', reason: 'bad_cost' });
  await t.rejects(limiter.take('k', 0), { code: 'INVALID_REQUEST', reason: 'bad_cost' });
  await t.rejects(limiter.take('k', Number.NaN), { code: 'INVALID_REQUEST', reason: 'bad_cost' });
});

t.test('bad options are refused', async (t) => {
  t.throws(() => new TokenBucketLimiter({ capacity: 0, refillPerSec: 1 }), { code: 'INVALID_REQUEST' });
  t.throws(() => new TokenBucketLimiter({ capacity: 1, refillPerSec: -1 }), { code: 'INVALID_REQUEST' });
});

t.test('the number of buckets stays within maxKeys', async (t) => {
  const limiter = new TokenBucketLimiter({ capacity: 1, refillPerSec: 1, maxKeys: 100, now: clock().now });
  for (let i = 0; i < 1000; i++) await limiter.take(`k${i}`);
  t.equal(limiter.size, 100);
});

t.test('eviction drops the least recently used bucket', async (t) => {
  const limiter = new TokenBucketLimiter({ capacity: 1, refillPerSec: 0.001, maxKeys: 2, now: clock().now });
  await limiter.take('a');
  await limiter.take('b');
  await limiter.peek('a'); // a becomes most recent
  await limiter.take('c'); // evicts b
  t.notOk((await limiter.take('a')).allowed, 'a kept its empty bucket');
  t.ok((await limiter.take('b')).allowed, 'b was evicted and starts full');
});

t.test('touching keys in turn keeps the least recently used at the front, whichever was touched last', async (t) => {
  const limiter = new TokenBucketLimiter({ capacity: 1, refillPerSec: 0.001, maxKeys: 2, now: clock().now });
  await limiter.take('a');
  await limiter.take('b');
  await limiter.peek('b'); // already the most recent: stays so
  await limiter.peek('a'); // a becomes the most recent
  await limiter.peek('b'); // then b again
  await limiter.peek('b');
  await limiter.take('c'); // evicts a
  t.ok((await limiter.take('a')).allowed, 'a was evicted and starts full');
  t.equal(limiter.size, 2);
  t.notOk((await limiter.peek('c')).allowed, 'c kept its empty bucket');
});

t.test('peek reports without consuming', async (t) => {
  const limiter = new TokenBucketLimiter({ capacity: 2, refillPerSec: 1, now: clock().now });
  t.same(await limiter.peek('k', 2), { allowed: true, remaining: 0, retryAfterMs: 0 });
  t.same(await limiter.take('k', 2), { allowed: true, remaining: 0, retryAfterMs: 0 });
});

t.test('composite returns the denying scope and consumes from none', async (t) => {
  const c = clock();
  const tenant = new TokenBucketLimiter({ capacity: 10, refillPerSec: 1, now: c.now });
  const user = new TokenBucketLimiter({ capacity: 1, refillPerSec: 1, now: c.now });
  const composite = new CompositeLimiter({ tenant, user });
  const keys = { tenant: 'acme', user: 'acme:alice' };
  t.ok((await composite.take(keys)).allowed);
  const denied = await composite.take(keys);
  t.same(denied, { allowed: false, remaining: 0, retryAfterMs: 1000, scope: 'user' });
  t.equal((await tenant.peek('acme')).remaining, 8, 'tenant paid only for the allowed request');
});

t.test('composite picks the longest wait when several scopes deny', async (t) => {
  const c = clock();
  const a = new TokenBucketLimiter({ capacity: 1, refillPerSec: 1, now: c.now });
  const b = new TokenBucketLimiter({ capacity: 1, refillPerSec: 0.25, now: c.now });
  const composite = new CompositeLimiter({ a, b });
  await composite.take({ a: 'x', b: 'x' });
  const d = await composite.take({ a: 'x', b: 'x' });
  t.equal(d.scope, 'b');
  t.equal(d.retryAfterMs, 4000);
});

t.test('composite reports the tightest remaining when all allow and skips absent scopes', async (t) => {
  const c = clock();
  const tenant = new TokenBucketLimiter({ capacity: 10, refillPerSec: 1, now: c.now });
  const user = new TokenBucketLimiter({ capacity: 3, refillPerSec: 1, now: c.now });
  const ip = new TokenBucketLimiter({ capacity: 1, refillPerSec: 1, now: c.now });
  const composite = new CompositeLimiter({ tenant, user, ip });
  t.same(await composite.take({ tenant: 't', user: 'u' }), { allowed: true, remaining: 2, retryAfterMs: 0, scope: 'user' });
  t.equal(ip.size, 0, 'no ip bucket was created');
});

/** A limiter that answers like a bucket, but only after a turn of the event loop (as one over Redis does). */
class LaterBucket implements PeekableRateLimiter {
  constructor(readonly inner: TokenBucketLimiter) {}
  async take(key: string, cost = 1): Promise<RateDecision> {
    await new Promise((r) => setImmediate(r));
    return this.inner.take(key, cost);
  }
  async peek(key: string, cost = 1): Promise<RateDecision> {
    await new Promise((r) => setImmediate(r));
    return this.inner.peek(key, cost);
  }
}

t.test('a composite of buckets decides at once (takeNow) exactly as one that must wait for a scope does (take)', async (t) => {
  const c = clock();
  const spec = { tenant: { capacity: 4, refillPerSec: 1 }, user: { capacity: 2, refillPerSec: 0.5 }, ip: { capacity: 3, refillPerSec: 0.25 } };
  const buckets = () => Object.fromEntries(Object.entries(spec).map(([k, o]) => [k, new TokenBucketLimiter({ ...o, now: c.now })]));
  const now = new CompositeLimiter(buckets());
  const waitingFor = buckets();
  const later = new CompositeLimiter({ ...waitingFor, ip: new LaterBucket(waitingFor.ip as TokenBucketLimiter) });
  t.equal(later.takeNow({ tenant: 't' }), undefined, 'a composite with a scope that waits cannot decide at once');
  const requests = [
    { tenant: 't', user: 'u', ip: 'i' }, { tenant: 't', user: 'u' }, { tenant: 't', user: 'v', ip: 'i' }, { tenant: 't', user: 'u', ip: 'j' },
    { tenant: 't', ip: 'i' }, { tenant: 's', user: 'w', ip: 'i' }, { tenant: 't', user: 'v', ip: 'k' }, { tenant: 't', user: 'v' },
  ];
  const decisions: [unknown, unknown][] = [];
  for (const keys of [...requests, ...requests]) {
    decisions.push([now.takeNow(keys), await later.take(keys)]);
    c.advance(700);
  }
  for (const [a, b] of decisions) t.same(a, b);
  t.ok(decisions.some(([a]) => (a as RateDecision).allowed) && decisions.some(([a]) => !(a as RateDecision).allowed), 'both answers occur');
  t.ok(decisions.some(([a]) => (a as { scope?: string }).scope === 'ip' && !(a as RateDecision).allowed), 'the waiting scope denied some');
});
