/**
 * The per-thread home of the provider actors. The backend spawns one
 * `providerHost` on each worker (module props, `placement: { worker: n }`); its
 * preStart installs that worker's ProviderRegistry, with itself as the parent
 * of every provider actor, and agents on the same worker find it through
 * `providerRegistry()`. Asked `{ t: 'metrics' }`, it answers the worker's
 * provider metrics snapshot (plain data, so it crosses threads).
 *
 * The gateway listens without waiting for the hosts: a run can reach a worker
 * (the stateless runner starts turns at once) before that worker's host module
 * has loaded. So an agent asks `providerRegistryReady()`, which waits for the
 * host a bounded time and then fails with a retryable UNAVAILABLE and a retry
 * hint, never a turn without limits or breakers.
 */
import type { Behavior } from '../../runtime/index.js';
import type { ProviderSpec } from './actor.js';
import type { ProviderMetricsSnapshot } from './metrics.js';
import { ProviderRegistry } from './registry.js';

let installed: ProviderRegistry | undefined;
/** Callers waiting for this thread's host to install its registry. */
const waiting = new Set<(registry: ProviderRegistry) => void>();

/** How long a run waits for its worker's provider host before failing with UNAVAILABLE. */
export const PROVIDER_HOST_WAIT_MS = 10_000;
/** The retry hint of that failure. */
const RETRY_AFTER_MS = 1_000;

/** Makes `registry` this thread's registry (replacing any earlier one). */
export function installProviderRegistry(registry: ProviderRegistry | undefined): void {
  installed = registry;
  if (registry === undefined) return;
  for (const wake of waiting) wake(registry);
  waiting.clear();
}

export class NoProviderRegistryError extends Error {
  override readonly name = 'NoProviderRegistryError';
  readonly code = 'UNAVAILABLE';
  readonly retryable = true;
  readonly retryAfterMs = RETRY_AFTER_MS;
}

/** This thread's registry; throws UNAVAILABLE when no provider host runs here. */
export function providerRegistry(): ProviderRegistry {
  if (installed === undefined) throw new NoProviderRegistryError('no provider host runs on this thread');
  return installed;
}

/**
 * This thread's registry, waiting up to `timeoutMs` for the host to install it
 * (the worker has just started); then UNAVAILABLE with a retry hint.
 */
export function providerRegistryReady(timeoutMs = PROVIDER_HOST_WAIT_MS): Promise<ProviderRegistry> {
  if (installed !== undefined) return Promise.resolve(installed);
  return new Promise((resolve, reject) => {
    const wake = (registry: ProviderRegistry): void => {
      clearTimeout(timer);
      resolve(registry);
    };
    const timer = setTimeout(() => {
      waiting.delete(wake);
      reject(new NoProviderRegistryError(`no provider host runs on this thread (waited ${timeoutMs} ms)`));
    }, timeoutMs);
    waiting.add(wake);
  });
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
