/**
 * The first stage of start-up: the actor system (its workers and the store
 * worker) and the store's open. Kept to a few light modules so that
 * `troupe start` can run it before it imports the rest of the gateway: the
 * workers boot and PGlite opens on their threads while the main thread is
 * still loading the front door, the admin API and the rest (their module
 * loading was ~1.5 s on the main thread, serially before any worker started).
 *
 *   cli start ─► bootGateway ─► workers start ─► store worker opens PGlite ──┐
 *      └──────► import gateway.js (main thread) ─► startGateway(…, { boot }) ─┴► listen, /ready
 */
import { rootLog } from '../observability/log.js';
import { ActorSystem } from '../runtime/index.js';
import type { GatewayConfig } from './config.js';
import { storeSettings } from './store.js';
import { StoreClient } from './store_client.js';

export const TRACE_ENVELOPE = new URL('../observability/trace_envelope.js', import.meta.url).href;

export interface BootedGateway {
  system: ActorSystem;
  /** The store worker (the one owner of the database); absent with TROUPE_STORE=none. */
  store: StoreClient | undefined;
}

export async function bootGateway(config: GatewayConfig): Promise<BootedGateway> {
  const settings = storeSettings(config);
  const logger = rootLog();
  const system = await ActorSystem.start({
    // A reserved worker for the store: it owns the database, so no SQL runs on this thread.
    pool: { workers: config.workers, reserved: settings === undefined ? 0 : 1 },
    // With tracing, every thread starts its own exporter, and messages carry the trace context (observability/trace_envelope.ts).
    ...(config.tracing === undefined ? {} : { envelope: { module: TRACE_ENVELOPE, export: 'traceEnvelope', args: config.tracing } }),
  });
  // The database opens on its worker while the rest starts; /ready says when it is open.
  const store = settings === undefined ? undefined : new StoreClient(system, settings, (msg, err) => logger.warn(msg, { error: String(err) }));
  return { system, store };
}
