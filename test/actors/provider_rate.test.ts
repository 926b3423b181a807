// The RPM/TPM token bucket over an injected clock.

import t from 'tap';
import { RateWindow } from '../../actors/provider/rate.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let at = 0;
  return { now: () => at, advance: (ms) => (at += ms) };
}

t.test('allows a burst up to the limit, then refuses', async (t) => {
  const rate = new RateWindow({ limit: 3, windowMs: 300 }, clock().now);
  t.ok(rate.tryTake(1));
  t.ok(rate.tryTake(1));
  t.ok(rate.tryTake(1));
  t.notOk(rate.tryTake(1));
});

t.test('refills one unit every windowMs / limit', async (t) => {
  const c = clock();
  const rate = new RateWindow({ limit: 3, windowMs: 300 }, c.now);
  for (let i = 0; i < 3; i++) rate.tryTake(1);
  t.equal(rate.waitMs(1), 100);
  c.advance(99);
  t.notOk(rate.tryTake(1));
  c.advance(1);
  t.ok(rate.tryTake(1));
});

t.test('never refills above the limit', async (t) => {
  const c = clock();
  const rate = new RateWindow({ limit: 2, windowMs: 100 }, c.now);
  c.advance(10_000);
  t.equal(rate.available, 2);
});

t.test('an amount above the limit waits for a full bucket instead of forever', async (t) => {
  const c = clock();
  const rate = new RateWindow({ limit: 10, windowMs: 100 }, c.now);
  t.ok(rate.tryTake(25));
  t.equal(rate.available, -15);
  t.equal(rate.waitMs(25), 250);
});

t.test('settle charges the real amount after an estimate', async (t) => {
  const c = clock();
  const rate = new RateWindow({ limit: 100, windowMs: 1000 }, c.now);
  rate.tryTake(10);
  rate.settle(30);
  t.equal(rate.available, 60);
  rate.settle(-80);
  t.equal(rate.available, 100, 'a refund never lifts the level above the limit');
});

t.test('bad options throw a RangeError', async (t) => {
  t.throws(() => new RateWindow({ limit: 0 }), RangeError);
  t.throws(() => new RateWindow({ limit: 5, windowMs: Number.NaN }), RangeError);
});
