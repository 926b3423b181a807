// callWithFailover through real provider actors, driving the real SDK adapters
// against the local fake upstreams.

import t from 'tap';
import { callWithFailover } from '../../actors/provider/chain.js';
import { AdmissionError } from '../../actors/provider/errors.js';
import { ProviderError } from '../../providers/index.js';
import { AnthropicUpstream } from '../fakes/anthropic_upstream.js';
import { ask, NO_RETRY, openaiFake, openaiSpec, Recorder, registryFor, series } from './provider_helpers.js';

t.test('a 429 fails over to the next provider in the chain', async (t) => {
  const a = await openaiFake(t);
  const b = await openaiFake(t);
  a.script({ status: 429 });
  b.script({ text: 'from b' });
  const registry = registryFor(t, [openaiSpec('a', a), openaiSpec('b', b)]);
  const rec = new Recorder();
  const result = await callWithFailover(registry, [{ providerId: 'a', model: 'm1' }, { providerId: 'b', model: 'm2' }], ask, rec.sink, { retry: NO_RETRY });
  t.equal(result.providerId, 'b');
  t.equal(result.failovers, 1);
  t.equal(rec.text, 'from b');
  t.equal(a.requests.length, 1);
  t.equal(b.requests.length, 1);
  t.match(b.lastRequest.body, { model: 'm2' });
});

t.test('a 500 is retried, then fails over to the next provider', async (t) => {
  const a = await openaiFake(t);
  const b = await openaiFake(t);
  a.script({ status: 500 }, { status: 500 });
  const registry = registryFor(t, [openaiSpec('a', a), openaiSpec('b', b)]);
  const rec = new Recorder();
  const result = await callWithFailover(registry, [{ providerId: 'a', model: 'm' }, { providerId: 'b', model: 'm' }], ask, rec.sink, {
    retry: { ...NO_RETRY, maxRetries: 1 },
  });
  t.equal(result.providerId, 'b');
  t.equal(result.attempts, 3);
  t.equal(a.requests.length, 2);
  t.equal(b.requests.length, 1);
  t.equal(rec.text, 'Hello from the fake upstream.');
});

t.test('an OpenAI failure fails over to Anthropic', async (t) => {
  const a = await openaiFake(t);
  const b = new AnthropicUpstream();
  await b.start();
  t.teardown(() => b.close());
  a.script({ status: 503 });
  b.script({ text: 'claude here' });
  const registry = registryFor(t, [openaiSpec('oa', a), { id: 'an', config: { kind: 'anthropic', apiKey: 'k', baseURL: b.url } }]);
  const rec = new Recorder();
  const result = await callWithFailover(registry, [{ providerId: 'oa', model: 'gpt' }, { providerId: 'an', model: 'claude' }], ask, rec.sink, {
    retry: NO_RETRY,
  });
  t.equal(result.providerId, 'an');
  t.equal(rec.text, 'claude here');
  t.equal(result.stop, 'stop');
});

t.test('Retry-After is honoured before the retry', async (t) => {
  const a = await openaiFake(t);
  a.script({ status: 429, retryAfter: '1' }, { text: 'second time' });
  const registry = registryFor(t, [openaiSpec('a', a)]);
  const rec = new Recorder();
  const started = Date.now();
  const result = await callWithFailover(registry, [{ providerId: 'a', model: 'm' }], ask, rec.sink, { retry: { ...NO_RETRY, maxRetries: 1 } });
  const elapsed = Date.now() - started;
  t.ok(elapsed >= 950, `waited ${elapsed} ms for a Retry-After of 1 s`);
  t.equal(a.requests.length, 2);
  t.equal(rec.text, 'second time');
  t.equal(result.attempts, 2);
  t.equal(series(registry, 'a', 'm').retries, 1);
});

t.test('after a 429 with Retry-After nobody else is sent to that upstream until it passes', async (t) => {
  const a = await openaiFake(t);
  a.script({ status: 429, retryAfter: '30' });
  const registry = registryFor(t, [openaiSpec('a', a)]);
  const chain = [{ providerId: 'a', model: 'm' }];
  const first = await callWithFailover(registry, chain, ask, new Recorder().sink, { retry: NO_RETRY }).catch((e: unknown) => e);
  t.match(first, { kind: 'rate_limited', retryAfterMs: 30_000 });
  const second = await callWithFailover(registry, chain, ask, new Recorder().sink, { retry: NO_RETRY }).catch((e: unknown) => e);
  t.ok(second instanceof AdmissionError, 'refused by the actor');
  t.match(second, { reason: 'rate_paused', kind: 'rate_limited' });
  t.ok(((second as AdmissionError).retryAfterMs ?? 0) > 29_000, 'carries the time left');
  t.equal(a.requests.length, 1, 'the upstream saw only the first request');
});

t.test('a paused upstream is skipped by failover', async (t) => {
  const a = await openaiFake(t);
  const b = await openaiFake(t);
  a.script({ status: 429, retryAfter: '30' });
  const registry = registryFor(t, [openaiSpec('a', a), openaiSpec('b', b)]);
  const chain = [{ providerId: 'a', model: 'm' }, { providerId: 'b', model: 'm' }];
  for (let i = 0; i < 2; i++) {
    const result = await callWithFailover(registry, chain, ask, new Recorder().sink, { retry: { ...NO_RETRY, maxRetries: 1 } });
    t.equal(result.providerId, 'b');
  }
  t.equal(a.requests.length, 1);
  t.same(series(registry, 'a', 'm').rejected, { rate_paused: 1 });
});

t.test('a stream cut after the first token is reported as is, with one upstream request', async (t) => {
  const a = await openaiFake(t);
  const b = await openaiFake(t);
  a.script({ text: 'one two three four five', cutAfterChunks: 3, cutMode: 'destroy' });
  const registry = registryFor(t, [openaiSpec('a', a), openaiSpec('b', b)]);
  const rec = new Recorder();
  const err = await callWithFailover(registry, [{ providerId: 'a', model: 'm' }, { providerId: 'b', model: 'm' }], ask, rec.sink, {
    retry: { ...NO_RETRY, maxRetries: 3 },
  }).catch((e: unknown) => e);
  t.ok(err instanceof ProviderError, 'a ProviderError');
  t.equal((err as ProviderError).kind, 'network');
  t.equal(rec.text, 'one two ');
  t.equal(a.requests.length, 1);
  t.equal(b.requests.length, 0, 'no failover after streaming began');
  t.equal(series(registry, 'a', 'm').retries, 0);
});

t.test('a bad request is neither retried nor failed over', async (t) => {
  const a = await openaiFake(t);
  const b = await openaiFake(t);
  a.script({ status: 400, errorMessage: 'bad field' });
  const registry = registryFor(t, [openaiSpec('a', a), openaiSpec('b', b)]);
  const err = await callWithFailover(registry, [{ providerId: 'a', model: 'm' }, { providerId: 'b', model: 'm' }], ask, new Recorder().sink, {
    retry: { ...NO_RETRY, maxRetries: 3 },
  }).catch((e: unknown) => e);
  t.equal((err as ProviderError).kind, 'bad_request');
  t.equal(a.requests.length, 1);
  t.equal(b.requests.length, 0);
});

t.test('a rejected key fails over to the next credential without a retry', async (t) => {
  const a = await openaiFake(t);
  const b = await openaiFake(t);
  a.script({ status: 401, errorMessage: 'invalid api key' });
  const registry = registryFor(t, [openaiSpec('key1', a), openaiSpec('key2', b)]);
  const result = await callWithFailover(registry, [{ providerId: 'key1', model: 'm' }, { providerId: 'key2', model: 'm' }], ask, new Recorder().sink, {
    retry: { ...NO_RETRY, maxRetries: 3 },
  });
  t.equal(result.providerId, 'key2');
  t.equal(a.requests.length, 1);
  t.equal(b.lastRequest.headers.authorization, 'Bearer sk-key2');
  t.match(series(registry, 'key1', 'm'), { errors: { auth: 1 }, retries: 0, failovers: 1 });
});

t.test('a context overflow fails over to the larger-context model', async (t) => {
  const a = await openaiFake(t);
  a.script({ status: 400, errorMessage: "This model's maximum context length is 8192 tokens" }, { text: 'fits now' });
  const registry = registryFor(t, [openaiSpec('a', a)]);
  const rec = new Recorder();
  const chain = [
    { providerId: 'a', model: 'small', contextTokens: 8_192 },
    { providerId: 'a', model: 'same', contextTokens: 8_192 },
    { providerId: 'a', model: 'large', contextTokens: 128_000 },
  ];
  const result = await callWithFailover(registry, chain, ask, rec.sink, { retry: NO_RETRY });
  t.equal(result.model, 'large');
  t.match(a.lastRequest.body, { model: 'large' });
  t.equal(a.requests.length, 2);
});

t.test('the breaker opens after N consecutive failures and then fails fast', async (t) => {
  const a = await openaiFake(t);
  a.script({ status: 500 }, { status: 500 });
  const registry = registryFor(t, [openaiSpec('a', a, { breaker: { failureThreshold: 2, coolDownMs: 60_000 } })]);
  const chain = [{ providerId: 'a', model: 'm' }];
  for (let i = 0; i < 2; i++) {
    const err = await callWithFailover(registry, chain, ask, new Recorder().sink, { retry: NO_RETRY }).catch((e: unknown) => e);
    t.equal((err as ProviderError).kind, 'overloaded');
  }
  const fast = await callWithFailover(registry, chain, ask, new Recorder().sink, { retry: NO_RETRY }).catch((e: unknown) => e);
  t.ok(fast instanceof AdmissionError, 'refused by the breaker');
  t.equal((fast as AdmissionError).reason, 'circuit_open');
  t.equal(a.requests.length, 2, 'the upstream saw no request while open');
  const state = registry.metrics.snapshot().providers.find((p) => p.provider === 'a');
  t.match(state, { breaker: 'open', breakerGauge: 2 });
  t.same(series(registry, 'a', 'm').rejected, { circuit_open: 1 });
});

t.test('an open breaker fails over to the next provider without touching the sick one', async (t) => {
  const a = await openaiFake(t);
  const b = await openaiFake(t);
  a.script({ status: 500 });
  const registry = registryFor(t, [openaiSpec('a', a, { breaker: { failureThreshold: 1, coolDownMs: 60_000 } }), openaiSpec('b', b)]);
  const chain = [{ providerId: 'a', model: 'm' }, { providerId: 'b', model: 'm' }];
  await callWithFailover(registry, chain, ask, new Recorder().sink, { retry: NO_RETRY });
  const result = await callWithFailover(registry, chain, ask, new Recorder().sink, { retry: NO_RETRY });
  t.equal(result.providerId, 'b');
  t.equal(a.requests.length, 1);
  t.equal(b.requests.length, 2);
});

t.test('after the cool-down a half-open probe that succeeds closes the breaker', async (t) => {
  const a = await openaiFake(t);
  a.script({ status: 500 });
  const registry = registryFor(t, [openaiSpec('a', a, { breaker: { failureThreshold: 1, coolDownMs: 150 } })]);
  const chain = [{ providerId: 'a', model: 'm' }];
  await callWithFailover(registry, chain, ask, new Recorder().sink, { retry: NO_RETRY }).catch(() => undefined);
  const refused = await callWithFailover(registry, chain, ask, new Recorder().sink, { retry: NO_RETRY }).catch((e: unknown) => e);
  t.ok(refused instanceof AdmissionError);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const rec = new Recorder();
  await callWithFailover(registry, chain, ask, rec.sink, { retry: NO_RETRY });
  t.equal(rec.text, 'Hello from the fake upstream.');
  t.equal(a.requests.length, 2);
  t.match(registry.metrics.snapshot().providers, [{ provider: 'a', breaker: 'closed', breakerGauge: 0 }]);
});

t.test('metrics count requests, errors, retries, failovers, tokens and first tokens', async (t) => {
  const a = await openaiFake(t);
  const b = await openaiFake(t);
  a.script({ status: 500 }, { status: 429 }, { status: 500 }, { status: 500 });
  b.script({ text: 'x y z', usage: { input: 11, output: 3 } }, { text: 'p q', usage: { input: 5, output: 2 } });
  const registry = registryFor(t, [openaiSpec('a', a), openaiSpec('b', b)]);
  const chain = [{ providerId: 'a', model: 'ma' }, { providerId: 'b', model: 'mb' }];
  const retry = { ...NO_RETRY, maxRetries: 1 };
  await callWithFailover(registry, chain, ask, new Recorder().sink, { retry });
  await callWithFailover(registry, chain, ask, new Recorder().sink, { retry });
  t.match(series(registry, 'a', 'ma'), {
    requests: 4,
    errors: { overloaded: 3, rate_limited: 1 },
    retries: 2,
    failovers: 2,
    tokensIn: 0,
    ttftCount: 0,
  });
  const mb = series(registry, 'b', 'mb');
  t.match(mb, { requests: 2, errors: {}, retries: 0, failovers: 0, tokensIn: 16, tokensOut: 5, ttftCount: 2 });
  t.equal(mb.ttftBuckets[mb.ttftBuckets.length - 1], 2, 'the +Inf bucket counts every first token');
});
