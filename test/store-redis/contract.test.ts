import t from 'tap';
import type * as Security from '../../security/types.js';
import type * as Store from '../../store/redis/types.js';
import { DegradingLimiter } from '../../store/redis/degrading_limiter.js';
import type { RedisTokenBucketLimiter } from '../../store/redis/rate_limiter.js';

// Compile-time proof that store/redis's local limiter contract is the one in
// security/types.ts: if either side changes shape, `npm run build` fails here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const decisionsMatch: Same<Store.RateDecision, Security.RateDecision> = true;
const limitersMatch: Same<Store.RateLimiter, Security.RateLimiter> = true;
const bucketFits: RedisTokenBucketLimiter extends Security.RateLimiter ? true : false = true;

t.test('a security-typed limiter plugs into DegradingLimiter and its decision comes back unchanged', async (t) => {
  const decision: Security.RateDecision = { allowed: false, remaining: 3, retryAfterMs: 7 };
  const primary: Security.RateLimiter = { take: async () => decision };
  const fallback: Security.RateLimiter = { take: async () => ({ allowed: true, remaining: 0, retryAfterMs: 0 }) };
  const degrading: Security.RateLimiter = new DegradingLimiter(primary, fallback);
  t.same(await degrading.take('tenant:acme'), decision);
  t.ok(decisionsMatch && limitersMatch && bucketFits);
});
