// The registry of provider actors and the per-thread provider host.

import t from 'tap';
import { providerHost, providerRegistry, providerRegistryReady } from '../../actors/provider/host.js';
import { credentialKey } from '../../actors/provider/registry.js';
import { callWithFailover } from '../../actors/provider/chain.js';
import type { ProviderMetricsSnapshot } from '../../actors/provider/metrics.js';
import { ActorSystem } from '../../runtime/index.js';
import { ask, Recorder, registryFor } from './provider_helpers.js';

t.test('one actor per provider id, spawned on first use and then reused', async (t) => {
  const registry = registryFor(t, [{ id: 's', config: { kind: 'simulated' } }]);
  t.ok(registry.actor('s').equals(registry.actor('s')));
});

t.test('two ids with the same credential are refused', async (t) => {
  const config = { kind: 'openai', apiKey: 'sk-same', baseURL: 'http://127.0.0.1:1/v1' } as const;
  t.throws(() => registryFor(t, [{ id: 'a', config }, { id: 'b', config }]), { code: 'INVALID_REQUEST' });
  t.throws(() => registryFor(t, [{ id: 'a', config }, { id: 'a', config: { kind: 'simulated' } }]), { code: 'INVALID_REQUEST' });
});

t.test('the credential key never contains the key itself', async (t) => {
  const key = credentialKey({ kind: 'openai', apiKey: 'sk-secret-value' }, 'a');
  t.notMatch(key, /secret/);
  t.not(key, credentialKey({ kind: 'openai', apiKey: 'sk-other' }, 'a'));
});

t.test('the provider host installs this thread\'s registry and answers its metrics', async (t) => {
  const system = new ActorSystem();
  t.teardown(() => system.shutdown(500));
  const host = system.spawn({ factory: providerHost, args: { specs: [{ id: 's', config: { kind: 'simulated', tokens: 2 } }] } });
  await host.ask({ t: 'metrics' });
  const registry = providerRegistry();
  await callWithFailover(registry, [{ providerId: 's', model: 'm' }], ask, new Recorder().sink);
  const snapshot = await host.ask<ProviderMetricsSnapshot>({ t: 'metrics' });
  t.match(snapshot.models, [{ provider: 's', model: 'm', requests: 1, tokensOut: 2 }]);
  t.match(snapshot.providers, [{ provider: 's', breaker: 'closed' }]);
  await system.stop(host);
  t.throws(() => providerRegistry(), { code: 'UNAVAILABLE' });
});

t.test('a run that comes before the host waits for its registry instead of failing', async (t) => {
  const system = new ActorSystem();
  t.teardown(() => system.shutdown(500));
  t.throws(() => providerRegistry(), { code: 'UNAVAILABLE' }, 'no host yet');
  const early = providerRegistryReady(60_000);
  const host = system.spawn({ factory: providerHost, args: { specs: [{ id: 's', config: { kind: 'simulated', tokens: 2 } }] } });
  const registry = await early;
  t.equal(registry, providerRegistry(), 'the waiter got the registry the host installed');
  await callWithFailover(registry, [{ providerId: 's', model: 'm' }], ask, new Recorder().sink);
  await system.stop(host);
});

t.test('with no host on the thread, the wait ends in a retryable UNAVAILABLE with a retry hint', async (t) => {
  await t.rejects(providerRegistryReady(20), { code: 'UNAVAILABLE', retryable: true, retryAfterMs: 1_000, message: /no provider host/ });
});

t.test('on a worker, the host\'s registry serves the actors placed there', async (t) => {
  const system = await ActorSystem.start({ pool: { workers: 1 } });
  t.teardown(() => system.shutdown(1_000));
  const specs = [{ id: 's', config: { kind: 'simulated', tokens: 3 } }];
  const host = system.spawn<{ t: 'metrics' }>(
    { module: new URL('../../actors/provider/host.js', import.meta.url).href, export: 'providerHost', args: { specs } },
    { placement: { worker: 1 } },
  );
  await host.ask({ t: 'metrics' });
  const caller = system.spawn(
    { module: new URL('./provider_worker_caller.js', import.meta.url).href, export: 'caller' },
    { placement: { worker: 1 } },
  );
  const reply = await caller.ask<{ text: string; providerId: string }>({ chain: [{ providerId: 's', model: 'm' }], prompt: 'hi' });
  t.equal(reply.providerId, 's');
  t.equal(reply.text.split(' ').length, 3);
  const snapshot = await host.ask<ProviderMetricsSnapshot>({ t: 'metrics' });
  t.match(snapshot.models, [{ provider: 's', model: 'm', requests: 1, tokensOut: 3 }]);
});
