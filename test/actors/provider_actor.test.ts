// The provider actor as an admission controller: permits, limits, queueing.
// Permits are asked for and released by hand, so no upstream is needed; the
// last tests stream through the simulated provider.

import t from 'tap';
import type { Permit, ProviderSpec } from '../../actors/provider/actor.js';
import { callWithFailover } from '../../actors/provider/chain.js';
import { AdmissionError } from '../../actors/provider/errors.js';
import { ProviderConfigError, ProviderError } from '../../providers/index.js';
import type { ProviderStateSnapshot } from '../../actors/provider/metrics.js';
import type { ProviderRegistry } from '../../actors/provider/registry.js';
import { ask, Recorder, registryFor, series } from './provider_helpers.js';

const sim = (limits: ProviderSpec['limits'], extra: Partial<ProviderSpec> = {}): ProviderSpec => ({
  id: 'sim',
  config: { kind: 'simulated', tokens: 4 },
  limits,
  ...extra,
});

function acquire(registry: ProviderRegistry, estimateTokens = 1, signal?: AbortSignal): Promise<Permit> {
  return registry.actor('sim').ask<Permit>({ t: 'acquire', model: 'm', estimateTokens, ...(signal ? { signal } : {}) });
}

function release(registry: ProviderRegistry, permit: Permit, tokens?: number): void {
  registry.actor('sim').tell({ t: 'release', id: permit.id, outcome: 'success', ...(tokens === undefined ? {} : { tokens }) });
}

const state = (registry: ProviderRegistry): Promise<ProviderStateSnapshot> => registry.actor('sim').ask({ t: 'state' });

/** Whether the promise settled within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setTimeout(resolve, ms));
  return done;
}

t.test('the request beyond the concurrency limit waits for a release', async (t) => {
  const registry = registryFor(t, [sim({ concurrency: 2 })]);
  const first = await acquire(registry);
  await acquire(registry);
  const third = acquire(registry);
  t.notOk(await settlesWithin(third, 30), 'the third waits');
  t.match(await state(registry), { inFlight: 2, queued: 1 });
  release(registry, first);
  t.ok(await settlesWithin(third, 30), 'a release admits it');
  t.match(await state(registry), { inFlight: 2, queued: 0 });
});

t.test('the request beyond the RPM limit waits for the bucket to refill', async (t) => {
  const registry = registryFor(t, [sim({ rpm: 2, windowMs: 400 })]);
  const started = Date.now();
  release(registry, await acquire(registry));
  release(registry, await acquire(registry));
  const third = await acquire(registry);
  const elapsed = Date.now() - started;
  t.ok(elapsed >= 180, `the third permit came after ${elapsed} ms (one per 200 ms)`);
  t.type(third.id, 'number');
});

t.test('the TPM limit holds a request until its token estimate fits', async (t) => {
  const registry = registryFor(t, [sim({ tpm: 100, windowMs: 60_000 })]);
  const first = await acquire(registry, 60);
  const second = acquire(registry, 60);
  t.notOk(await settlesWithin(second, 30), 'the estimate does not fit');
  release(registry, first, 10);
  t.ok(await settlesWithin(second, 30), 'settling the real usage refunds the estimate');
});

t.test('a full wait queue refuses at once', async (t) => {
  const registry = registryFor(t, [sim({ concurrency: 1, maxQueue: 1 })]);
  await acquire(registry);
  const queued = acquire(registry);
  const err = await acquire(registry).catch((e: unknown) => e);
  t.ok(err instanceof AdmissionError);
  t.match(err, { reason: 'queue_full', kind: 'overloaded', code: 'OVERLOADED' });
  t.notOk(await settlesWithin(queued, 10));
  t.same(series(registry, 'sim', 'm').rejected, { queue_full: 1 });
});

t.test('a caller waiting longer than queueTimeoutMs is refused', async (t) => {
  const registry = registryFor(t, [sim({ concurrency: 1, queueTimeoutMs: 50 })]);
  await acquire(registry);
  const err = await acquire(registry).catch((e: unknown) => e);
  t.match(err, { reason: 'queue_timeout', kind: 'timeout' });
  t.match(await state(registry), { queued: 0 });
});

t.test('a waiter whose signal aborts leaves the queue', async (t) => {
  const registry = registryFor(t, [sim({ concurrency: 1 })]);
  const held = await acquire(registry);
  const controller = new AbortController();
  const waiting = acquire(registry, 1, controller.signal);
  controller.abort();
  await t.rejects(waiting);
  t.match(await state(registry), { inFlight: 1, queued: 0 });
  release(registry, held);
  t.match(await state(registry), { inFlight: 0 });
});

t.test('a release of an unknown permit changes nothing', async (t) => {
  const registry = registryFor(t, [sim({ concurrency: 1 })]);
  const permit = await acquire(registry);
  release(registry, permit);
  release(registry, permit);
  t.match(await state(registry), { inFlight: 0 });
  await acquire(registry);
  release(registry, permit);
  t.match(await state(registry), { inFlight: 1 }, 'a stale release does not free a live permit');
});

t.test('streamed calls beyond the concurrency limit run one after another', async (t) => {
  const registry = registryFor(t, [{ id: 'sim', config: { kind: 'simulated', tokens: 3, firstTokenMs: 100 }, limits: { concurrency: 1 } }]);
  const chain = [{ providerId: 'sim', model: 'm' }];
  const started = Date.now();
  const recs = [new Recorder(), new Recorder()];
  await Promise.all(recs.map((r) => callWithFailover(registry, chain, ask, r.sink)));
  const elapsed = Date.now() - started;
  t.ok(elapsed >= 190, `two 100 ms first tokens in series took ${elapsed} ms`);
  t.ok(recs.every((r) => r.text.split(' ').length === 3));
  t.match(series(registry, 'sim', 'm'), { requests: 2, ttftCount: 2, tokensOut: 6 });
});

t.test('the sink sees every event, in order, ending with usage and stop', async (t) => {
  const registry = registryFor(t, [sim(undefined)]);
  const rec = new Recorder();
  const result = await callWithFailover(registry, [{ providerId: 'sim', model: 'm' }], ask, rec.sink);
  t.same(rec.events.map((e) => e.type), ['text', 'usage', 'stop']);
  t.equal(result.stop, 'stop');
  t.equal(result.usage?.outputTokens, 4);
});

t.test('a simulated failure before any token is retried on the same provider', async (t) => {
  let made = 0;
  const registry = registryFor(t, [sim(undefined)], {
    make: (config) => {
      made++;
      return { kind: 'flaky', stream: (req) => streamOf(config.kind, req.signal) };
    },
  });
  const err = await callWithFailover(registry, [{ providerId: 'sim', model: 'm' }], ask, new Recorder().sink, {
    retry: { baseMs: 1, maxMs: 2, jitter: 0, maxRetries: 2 },
  }).catch((e: unknown) => e);
  t.match(err, { kind: 'overloaded' });
  t.equal(made, 1, 'one client per provider actor');
  t.match(series(registry, 'sim', 'm'), { requests: 3, retries: 2, errors: { overloaded: 3 } });
});

t.test('the caller aborting during a backoff ends the call as aborted', async (t) => {
  const registry = registryFor(t, [sim(undefined)], { make: () => ({ kind: 'flaky', stream: (req) => streamOf('x', req.signal) }) });
  const controller = new AbortController();
  const call = callWithFailover(registry, [{ providerId: 'sim', model: 'm' }], { ...ask, signal: controller.signal }, new Recorder().sink, {
    retry: { baseMs: 5_000, maxMs: 5_000, jitter: 0, maxRetries: 1 },
  });
  setTimeout(() => controller.abort(), 30);
  const started = Date.now();
  const err = await call.catch((e: unknown) => e);
  t.match(err, { kind: 'aborted' });
  t.ok(Date.now() - started < 2_000, 'did not sit out the backoff');
});

t.test('a chain naming an unknown provider is refused before any request', async (t) => {
  const registry = registryFor(t, [sim(undefined)]);
  await t.rejects(callWithFailover(registry, [{ providerId: 'nope', model: 'm' }], ask, new Recorder().sink), { code: 'INVALID_REQUEST' });
  await t.rejects(callWithFailover(registry, [], ask, new Recorder().sink), { code: 'INVALID_REQUEST' });
});

/** A stream that fails before its first event, as a busy upstream does. */
// eslint-disable-next-line require-yield
async function* streamOf(kind: string, signal: AbortSignal | undefined): AsyncIterable<never> {
  if (signal?.aborted) throw new ProviderError('aborted', kind, 'aborted');
  throw new ProviderError('overloaded', kind, 'always busy');
}

t.test('a sink that throws fails the call and still releases the permit', async (t) => {
  const registry = registryFor(t, [sim({ concurrency: 1 })]);
  const boom = new Error('client went away');
  const sink = (): void => {
    throw boom;
  };
  await t.rejects(callWithFailover(registry, [{ providerId: 'sim', model: 'm' }], ask, sink), boom);
  t.match(await state(registry), { inFlight: 0, breaker: 'closed' });
});

t.test('a provider that cannot be built fails the call with its configuration error', async (t) => {
  const registry = registryFor(t, [sim(undefined)], {
    make: () => {
      throw new ProviderConfigError('the openai provider needs an API key');
    },
  });
  await t.rejects(callWithFailover(registry, [{ providerId: 'sim', model: 'm' }], ask, new Recorder().sink), { code: 'INVALID_REQUEST' });
  t.match(await state(registry), { inFlight: 0, breaker: 'closed' });
});

t.test('while the half-open probe is in flight, other callers are refused', async (t) => {
  const registry = registryFor(t, [sim(undefined, { breaker: { failureThreshold: 1, coolDownMs: 50 } })]);
  const first = await acquire(registry);
  registry.actor('sim').tell({ t: 'release', id: first.id, outcome: 'overloaded' });
  t.match(await acquire(registry).catch((e: unknown) => e), { reason: 'circuit_open' });
  await new Promise((resolve) => setTimeout(resolve, 70));
  const probe = await acquire(registry);
  t.equal(probe.probe, true);
  t.match(await acquire(registry).catch((e: unknown) => e), { reason: 'circuit_open' });
  release(registry, probe);
  const after = await acquire(registry);
  t.equal(after.probe, false);
  t.match(await state(registry), { breaker: 'closed' });
});
