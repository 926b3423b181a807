/**
 * The per-thread home of the provider actors. The backend spawns one
 * `providerHost` on each worker (module props, `placement: { worker: n }`); its
 * preStart installs that worker's ProviderRegistry, with itself as the parent
 * of every provider actor, and agents on the same worker find it through
 * `providerRegistry()`. Asked `{ t: 'metrics' }`, it answers the worker's
 * provider metrics snapshot (plain data, so it crosses threads).
 */
import type { Behavior } from '../../runtime/index.js';
import type { ProviderSpec } from './actor.js';
import type { ProviderMetricsSnapshot } from './metrics.js';
import { ProviderRegistry } from './registry.js';

let installed: ProviderRegistry | undefined;

/** Makes `registry` this thread's registry (replacing any earlier one). */
export function installProviderRegistry(registry: ProviderRegistry | undefined): void {
  installed = registry;
}

export class NoProviderRegistryError extends Error {
  override readonly name = 'NoProviderRegistryError';
  readonly code = 'UNAVAILABLE';
}

/** This thread's registry; throws UNAVAILABLE when no provider host runs here. */
export function providerRegistry(): ProviderRegistry {
  if (installed === undefined) throw new NoProviderRegistryError('no provider host runs on this thread');
  return installed;
}

export type ProviderHostMessage = { readonly t: 'metrics' };

export function providerHost(args: { specs: ProviderSpec[] }): Behavior<ProviderHostMessage> {
  let registry: ProviderRegistry | undefined;
  return {
    preStart(ctx) {
      registry = new ProviderRegistry(ctx, args.specs);
      installProviderRegistry(registry);
    },
    receive(msg): ProviderMetricsSnapshot | undefined {
      return msg.t === 'metrics' ? registry?.metrics.snapshot() : undefined;
    },
    postStop() {
      if (installed === registry) installProviderRegistry(undefined);
    },
  };
}
