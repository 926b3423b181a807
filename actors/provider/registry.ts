/**
 * The provider actors of one thread, spawned on first use: one per
 * (provider, credential). A chain names providers by id; the registry maps an
 * id to its spec and to the local actor that guards that credential.
 *
 * The actors must be spawned by something long-lived on the caller's thread
 * (the ActorSystem on the main thread, or a per-worker root actor's context,
 * see host.ts): children stop with their parent.
 */
import { createHash } from 'node:crypto';
import type { Provider, ProviderConfig } from '../../providers/index.js';
import type { ActorRef, Props, SpawnOptions } from '../../runtime/index.js';
import { providerActor, type ProviderMessage, type ProviderSpec } from './actor.js';
import { ChainConfigError } from './errors.js';
import { ProviderMetrics } from './metrics.js';

/** The ActorSystem or an ActorContext: whatever spawns on this thread. */
export interface Spawner {
  spawn<M>(props: Props<M>, options?: SpawnOptions): ActorRef<M>;
  /** Stops a spawned actor (an ActorContext has it); absent: `close` leaves them. */
  stop?(ref: ActorRef): void;
}

export interface RegistryOptions {
  readonly metrics?: ProviderMetrics;
  readonly now?: () => number;
  readonly make?: (config: ProviderConfig) => Provider;
  /** Asked for ids this registry does not hold (a tenant's layer over the config file's providers). */
  readonly fallback?: ProviderRegistry;
}

/** Provider specs per registry at most. */
export const MAX_PROVIDER_SPECS = 256;

export class ProviderRegistry {
  readonly metrics: ProviderMetrics;
  private readonly specs = new Map<string, ProviderSpec>();
  private readonly actors = new Map<string, ActorRef<ProviderMessage>>();

  constructor(
    private readonly spawner: Spawner,
    specs: readonly ProviderSpec[],
    private readonly options: RegistryOptions = {},
  ) {
    this.metrics = options.metrics ?? new ProviderMetrics();
    if (specs.length > MAX_PROVIDER_SPECS) throw new ChainConfigError(`at most ${MAX_PROVIDER_SPECS} providers, got ${specs.length}`);
    const credentials = new Map<string, string>();
    for (const spec of specs) {
      if (typeof spec.id !== 'string' || spec.id === '') throw new ChainConfigError('every provider needs a non-empty id');
      if (this.specs.has(spec.id)) throw new ChainConfigError(`provider id ${spec.id} appears twice`);
      const key = credentialKey(spec.config, spec.id);
      const other = credentials.get(key);
      if (other !== undefined) {
        // Limits and breakers are per credential upstream: two ids would split them.
        throw new ChainConfigError(`providers ${other} and ${spec.id} use the same credential; use one id with several models`);
      }
      credentials.set(key, spec.id);
      this.specs.set(spec.id, spec);
    }
  }

  spec(id: string): ProviderSpec {
    const fallback = this.options.fallback;
    if (fallback !== undefined && !this.specs.has(id)) return fallback.spec(id);
    const spec = this.specs.get(id);
    if (spec === undefined) throw new ChainConfigError(`unknown provider ${JSON.stringify(id)}`);
    return spec;
  }

  has(id: string): boolean {
    return this.specs.has(id) || (this.options.fallback?.has(id) ?? false);
  }

  /** A registry of `specs` (a tenant's providers) over this one, sharing its spawner and metrics. */
  layer(specs: readonly ProviderSpec[]): ProviderRegistry {
    return new ProviderRegistry(this.spawner, specs, { ...this.options, metrics: this.metrics, fallback: this });
  }

  /** Stops the actors this registry spawned (not its fallback's); a run holding a permit finishes its stream. */
  close(): void {
    for (const ref of this.actors.values()) this.spawner.stop?.(ref);
    this.actors.clear();
  }

  /** The actor guarding this provider's credential, spawned on first use. */
  actor(id: string): ActorRef<ProviderMessage> {
    const fallback = this.options.fallback;
    if (fallback !== undefined && !this.specs.has(id)) return fallback.actor(id);
    let ref = this.actors.get(id);
    if (ref === undefined) {
      const args = { spec: this.spec(id), metrics: this.metrics, now: this.options.now, make: this.options.make };
      ref = this.spawner.spawn<ProviderMessage>({ factory: providerActor, args }, { restart: 'permanent' });
      this.actors.set(id, ref);
    }
    return ref;
  }

  /** Forgets a stopped actor so the next use spawns a fresh one. */
  forget(id: string): void {
    this.actors.delete(id);
  }
}

/**
 * Kind, endpoint and a digest of the key: never the key itself, which may end
 * up in logs. The simulated provider has no upstream, so each id is its own.
 */
export function credentialKey(config: ProviderConfig, id: string): string {
  if (config.kind === 'simulated') return `simulated|${id}`;
  const key = 'apiKey' in config && typeof config.apiKey === 'string' ? config.apiKey : '';
  const base = 'baseURL' in config && typeof config.baseURL === 'string' ? config.baseURL : '';
  const digest = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return `${config.kind}|${base}|${digest}`;
}
