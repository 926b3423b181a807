// The circuit breaker as a plain state machine over an injected clock.

import t from 'tap';
import { CircuitBreaker } from '../../actors/provider/breaker.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let at = 1_000;
  return { now: () => at, advance: (ms) => (at += ms) };
}

function failTimes(breaker: CircuitBreaker, n: number): void {
  for (let i = 0; i < n; i++) {
    breaker.admit();
    breaker.onFailure();
  }
}

/** A breaker (threshold 1, cool-down 100 ms) that opened, cooled down and let its probe through. */
function probing(): CircuitBreaker {
  const c = clock();
  const breaker = new CircuitBreaker({ failureThreshold: 1, coolDownMs: 100 }, c.now);
  failTimes(breaker, 1);
  c.advance(100);
  if (breaker.admit() !== 'probe') throw new Error('expected the probe to pass');
  return breaker;
}

t.test('stays closed below the threshold of consecutive failures', async (t) => {
  const breaker = new CircuitBreaker({ failureThreshold: 3, coolDownMs: 100 }, clock().now);
  failTimes(breaker, 2);
  t.equal(breaker.state, 'closed');
  t.equal(breaker.admit(), 'pass');
});

t.test('a success resets the count of consecutive failures', async (t) => {
  const breaker = new CircuitBreaker({ failureThreshold: 3, coolDownMs: 100 }, clock().now);
  failTimes(breaker, 2);
  breaker.onSuccess();
  failTimes(breaker, 2);
  t.equal(breaker.state, 'closed');
  t.equal(breaker.failures, 2);
});

t.test('opens after N consecutive failures and refuses until the cool-down ends', async (t) => {
  const c = clock();
  const breaker = new CircuitBreaker({ failureThreshold: 3, coolDownMs: 100 }, c.now);
  failTimes(breaker, 3);
  t.equal(breaker.state, 'open');
  t.equal(breaker.admit(), 'reject');
  c.advance(60);
  t.equal(breaker.retryInMs(), 40);
  t.equal(breaker.admit(), 'reject');
});

t.test('after the cool-down exactly one probe passes', async (t) => {
  const c = clock();
  const breaker = new CircuitBreaker({ failureThreshold: 1, coolDownMs: 100 }, c.now);
  failTimes(breaker, 1);
  c.advance(100);
  t.equal(breaker.state, 'half_open');
  t.equal(breaker.admit(), 'probe');
  t.equal(breaker.admit(), 'reject');
});

t.test('a successful probe closes the breaker', async (t) => {
  const breaker = probing();
  breaker.onSuccess();
  t.equal(breaker.state, 'closed');
  t.equal(breaker.admit(), 'pass');
});

t.test('a failed probe opens the breaker for another cool-down', async (t) => {
  const c = clock();
  const breaker = new CircuitBreaker({ failureThreshold: 2, coolDownMs: 100 }, c.now);
  failTimes(breaker, 2);
  c.advance(150);
  t.equal(breaker.admit(), 'probe');
  breaker.onFailure(true);
  t.equal(breaker.state, 'open');
  t.equal(breaker.retryInMs(), 100);
});

t.test('a late failure of an older request does not end the probe', async (t) => {
  const breaker = probing();
  breaker.onFailure(false);
  t.equal(breaker.state, 'half_open');
  t.equal(breaker.admit(), 'reject', 'the probe is still the only one in flight');
  breaker.onSuccess();
  t.equal(breaker.state, 'closed');
});

t.test('a neutral outcome hands the probe slot back', async (t) => {
  const breaker = probing();
  breaker.onNeutral(true);
  t.equal(breaker.admit(), 'probe');
});

t.test('bad options throw a RangeError', async (t) => {
  t.throws(() => new CircuitBreaker({ failureThreshold: 0 }), RangeError);
  t.throws(() => new CircuitBreaker({ coolDownMs: -1 }), RangeError);
});
