// Backoff delays and the retry / failover decision, with a fixed random source.

import t from 'tap';
import { backoffDelay } from '../../actors/provider/backoff.js';
import { decide, failoverTarget, type FailedAttempt } from '../../actors/provider/policy.js';

const half = (): number => 0.5;
const options = { baseMs: 100, maxMs: 1_000, jitter: 0, maxRetries: 2, maxRetryAfterMs: 5_000 };

t.test('backoff doubles per attempt up to the maximum', async (t) => {
  const o = { baseMs: 100, maxMs: 1_000, jitter: 0 };
  t.same([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, o)), [100, 200, 400, 800, 1000, 1000]);
});

t.test('jitter takes a random share off the ceiling', async (t) => {
  const o = { baseMs: 100, maxMs: 1_000, jitter: 1 };
  t.equal(backoffDelay(2, o, undefined, () => 0), 400);
  t.equal(backoffDelay(2, o, undefined, () => 0.75), 100);
  t.equal(backoffDelay(2, { ...o, jitter: 0.5 }, undefined, half), 300);
});

t.test('a Retry-After longer than the backoff wins', async (t) => {
  const o = { baseMs: 100, maxMs: 1_000, jitter: 0 };
  t.equal(backoffDelay(0, o, 1_500), 1_500);
  t.equal(backoffDelay(3, o, 10), 800, 'a shorter Retry-After does not shorten the backoff');
});

t.test('backoff rejects a jitter outside 0..1', async (t) => {
  t.throws(() => backoffDelay(0, { baseMs: 1, maxMs: 2, jitter: 2 }), RangeError);
});

const failed = (over: Partial<FailedAttempt>): FailedAttempt => ({ kind: 'overloaded', retries: 0, streamed: false, canFailOver: true, ...over });

t.test('retryable kinds are retried with backoff while retries remain', async (t) => {
  for (const kind of ['rate_limited', 'overloaded', 'timeout', 'network'] as const) {
    t.same(decide(failed({ kind, retries: 1 }), options), { action: 'retry', delayMs: 200 }, kind);
  }
});

t.test('after the last retry the chain fails over', async (t) => {
  t.same(decide(failed({ retries: 2 }), options), { action: 'failover' });
  t.same(decide(failed({ retries: 2, canFailOver: false }), options), { action: 'fail' });
});

t.test('bad_request is never retried nor failed over', async (t) => {
  t.same(decide(failed({ kind: 'bad_request' }), options), { action: 'fail' });
});

t.test('auth fails over at once, without a retry', async (t) => {
  t.same(decide(failed({ kind: 'auth' }), options), { action: 'failover' });
});

t.test('nothing is retried or failed over once a token was streamed', async (t) => {
  t.same(decide(failed({ kind: 'network', streamed: true }), options), { action: 'fail' });
});

t.test('a Retry-After beyond the allowed wait fails over instead of waiting', async (t) => {
  t.same(decide(failed({ kind: 'rate_limited', retryAfterMs: 60_000 }), options), { action: 'failover' });
  t.same(decide(failed({ kind: 'rate_limited', retryAfterMs: 1_000 }), options), { action: 'retry', delayMs: 1_000 });
});

t.test('the caller aborting ends the call', async (t) => {
  t.same(decide(failed({ kind: 'aborted' }), options), { action: 'fail' });
});

t.test('failover goes to the next entry', async (t) => {
  const chain = [{}, {}, {}];
  t.equal(failoverTarget(chain, 0, 'overloaded'), 1);
  t.equal(failoverTarget(chain, 2, 'overloaded'), -1);
  t.equal(failoverTarget(chain, 0, 'bad_request'), -1);
});

t.test('a context overflow fails over only to a larger context window', async (t) => {
  const chain = [{ contextTokens: 8_000 }, { contextTokens: 8_000 }, {}, { contextTokens: 128_000 }];
  t.equal(failoverTarget(chain, 0, 'context_overflow'), 3);
  t.equal(failoverTarget(chain, 3, 'context_overflow'), -1);
  t.equal(failoverTarget([{}, { contextTokens: 1 }], 0, 'context_overflow'), -1, 'unknown sizes do not fail over');
});
