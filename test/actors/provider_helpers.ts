// Shared set-up for the provider actor tests: a one-thread ActorSystem, a
// registry over given specs, and a sink that records what reached the caller.

import { ActorSystem } from '../../runtime/index.js';
import type { ProviderSpec } from '../../actors/provider/actor.js';
import { ProviderRegistry, type RegistryOptions } from '../../actors/provider/registry.js';
import type { ModelMetricsSnapshot } from '../../actors/provider/metrics.js';
import type { ChatRequest, StreamEvent } from '../../providers/index.js';
import { OpenAIUpstream } from '../fakes/openai_upstream.js';
import type { FakeUpstream } from '../fakes/upstream.js';

export interface Owner {
  teardown(fn: () => unknown): void;
}

export function registryFor(t: Owner, specs: ProviderSpec[], options?: RegistryOptions): ProviderRegistry {
  const system = new ActorSystem();
  t.teardown(() => system.shutdown(500));
  return new ProviderRegistry(system, specs, options);
}

export async function openaiFake(t: Owner): Promise<OpenAIUpstream> {
  const fake = new OpenAIUpstream();
  await fake.start();
  t.teardown(() => fake.close());
  return fake;
}

export function openaiSpec(id: string, fake: FakeUpstream, extra: Partial<ProviderSpec> = {}): ProviderSpec {
  return { id, config: { kind: 'openai', apiKey: `sk-${id}`, baseURL: `${fake.url}/v1`, timeoutMs: 5_000 }, ...extra };
}

export const ask: Omit<ChatRequest, 'model'> = { messages: [{ role: 'user', content: 'Say hello.' }], maxTokens: 64 };

export class Recorder {
  readonly events: StreamEvent[] = [];
  readonly sink = (event: StreamEvent): void => {
    this.events.push(event);
  };

  get text(): string {
    let text = '';
    for (const e of this.events) if (e.type === 'text') text += e.delta;
    return text;
  }
}

/** The metrics series of one (provider, model); fails loudly when absent. */
export function series(registry: ProviderRegistry, provider: string, model: string): ModelMetricsSnapshot {
  const found = registry.metrics.snapshot().models.find((m) => m.provider === provider && m.model === model);
  if (found === undefined) throw new Error(`no metrics for ${provider}/${model}`);
  return found;
}

/** Only a zero retry budget and no jitter: failures fail over at once. */
export const NO_RETRY = { baseMs: 1, maxMs: 1, jitter: 0, maxRetries: 0 };
