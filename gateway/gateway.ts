/**
 * Start-up and shutdown of the whole gateway: the actor system and its
 * workers, the backend, authentication, limits, metrics, and the front door.
 */
import { ActorBackend } from '../actors/backend.js';
import { ActorSystem } from '../runtime/index.js';
import { createJwtAuthenticator, signToken } from '../security/jwt.js';
import { TokenBucketLimiter } from '../security/rate_limit.js';
import { createFrontDoor, type FrontDoor } from '../transports/index.js';
import type { GatewayConfig } from './config.js';
import { createRegistry } from './metrics.js';

export interface RunningGateway {
  url: string;
  port: number;
  engine: string;
  system: ActorSystem;
  backend: ActorBackend;
  frontDoor: FrontDoor;
  /** A development token (HS256 configurations only). */
  devToken?: string;
  /** Drains runs in flight until the deadline, then stops everything. Idempotent. */
  shutdown(): Promise<void>;
}

export async function startGateway(config: GatewayConfig): Promise<RunningGateway> {
  const system = await ActorSystem.start({ pool: { workers: config.workers } });
  let frontDoor: FrontDoor | undefined;
  try {
    const backend = new ActorBackend(system, { agents: config.agents, defaultAgent: config.defaultAgent, sessionIdleMs: config.sessionIdleMs, enableFaults: config.enableFaults });
    const authenticator = createJwtAuthenticator({
      ...(config.jwt.jwks !== undefined ? { jwks: config.jwt.jwks } : { secret: config.jwt.secret }),
      ...(config.jwt.issuer !== undefined ? { issuer: config.jwt.issuer } : {}),
      ...(config.jwt.audience !== undefined ? { audience: config.jwt.audience } : {}),
    });
    const registry = createRegistry(system);
    frontDoor = createFrontDoor({
      backend,
      authenticator,
      limiters: {
        connect: new TokenBucketLimiter({ capacity: config.limits.connectBurst, refillPerSec: config.limits.connectPerSec }),
        chat: new TokenBucketLimiter({ capacity: config.limits.chatBurst, refillPerSec: config.limits.chatPerSec }),
      },
      metrics: registry,
      config: {
        host: config.host,
        port: config.port,
        maxConnections: config.limits.maxConnections,
        maxPayloadBytes: config.limits.maxPayloadBytes,
        allowedOrigins: config.allowedOrigins,
        shutdownDeadlineMs: config.shutdownDeadlineMs,
        allowFallback: config.allowFallback,
      },
    });
    const { port } = await frontDoor.listen();
    const devToken = config.jwt.secret === undefined ? undefined : await signToken({
      secret: config.jwt.secret, tenant: 'dev', user: 'dev', scopes: ['chat'], ttlSec: 86_400,
      ...(config.jwt.issuer !== undefined ? { issuer: config.jwt.issuer } : {}),
      ...(config.jwt.audience !== undefined ? { audience: config.jwt.audience } : {}),
    });
    const door = frontDoor;
    let stopping: Promise<void> | undefined;
    return {
      url: `http://${config.host}:${port}`,
      port,
      engine: door.engine,
      system,
      backend,
      frontDoor: door,
      devToken,
      shutdown() {
        stopping ??= (async () => {
          await door.shutdown();
          backend.close();
          await system.shutdown(Math.min(config.shutdownDeadlineMs, 5_000));
        })();
        return stopping;
      },
    };
  } catch (err) {
    await frontDoor?.shutdown().catch(() => undefined);
    await system.shutdown(1_000);
    throw err;
  }
}
