/**
 * A tenant's own providers (from the store, admin API) on one worker: a
 * registry layered over the worker's registry of the config file's providers,
 * so chains may name either. A provider's API key is fetched (`fetchKey`, from
 * the store worker, which opens the sealed secret) only when a call first needs
 * that layer, and lives only in the provider actor's client on this thread.
 * A layer is rebuilt when the tenant's providers change; the old one's actors
 * are stopped (a run holding a permit finishes its stream).
 */
import type { ProviderSpec } from './actor.js';
import type { ProviderRegistry } from './registry.js';

/** A tenant's provider as pushed to the workers: its spec without any key. */
export interface TenantProvider {
  id: string;
  spec: Omit<ProviderSpec, 'id'>;
  /** A sealed key is in the store for it. */
  hasKey: boolean;
  /** Changes with every change of the provider or its key (its updatedAt). */
  version: string;
}

/** The plaintext key of a tenant's provider, from the store worker; null when it has none. */
export type FetchKey = (tenant: string, providerId: string) => Promise<string | null>;

/** Tenants whose layers one worker keeps; the oldest is closed when more are used. */
const MAX_LAYERS = 1_000;

interface Layer {
  version: string;
  registry: Promise<ProviderRegistry>;
}

const layers = new Map<string, Layer>();

const versionOf = (providers: readonly TenantProvider[]): string => providers.map((p) => `${p.id}@${p.version}`).join(',');

/** The registry a chain of `tenant` runs through: `base` alone when the tenant has no providers of its own. */
export function tenantRegistry(base: ProviderRegistry, tenant: string, providers: readonly TenantProvider[], fetchKey: FetchKey): Promise<ProviderRegistry> {
  if (providers.length === 0) return Promise.resolve(base);
  const version = versionOf(providers);
  const kept = layers.get(tenant);
  if (kept !== undefined && kept.version === version) return kept.registry;
  if (kept !== undefined) {
    layers.delete(tenant);
    void kept.registry.then((r) => r.close(), () => undefined);
  }
  const registry = Promise.all(providers.map(async (p): Promise<ProviderSpec> => {
    if (!p.hasKey) return { ...p.spec, id: p.id };
    const apiKey = await fetchKey(tenant, p.id);
    return { ...p.spec, id: p.id, config: { ...p.spec.config, ...(apiKey === null ? {} : { apiKey }) } as ProviderSpec['config'] };
  })).then((specs) => base.layer(specs));
  // A failed fetch is not kept: the next call tries again.
  registry.catch(() => {
    if (layers.get(tenant)?.registry === registry) layers.delete(tenant);
  });
  if (layers.size >= MAX_LAYERS) {
    const [oldest, layer] = layers.entries().next().value as [string, Layer];
    layers.delete(oldest);
    void layer.registry.then((r) => r.close(), () => undefined);
  }
  layers.set(tenant, { version, registry });
  return registry;
}
