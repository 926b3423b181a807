/**
 * What the WS and HTTP handlers share: the injected collaborators plus the
 * front door's own state. Built once by createFrontDoor; handlers see only this.
 */
import type { Authenticator, Principal, RateLimiter } from '../security/types.js';
import type { GatewayBackend } from './backend.js';
import type { FrontDoorConfig } from './config.js';
import type { Engine } from './engine.js';
import type { GatewayMetrics } from './metrics.js';
import type { RunTracker } from './run_tracker.js';
import { isErrorCode, TroupeError } from './errors.js';

export interface FrontDoorLogger {
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** One JSON line per entry on stderr, until the gateway injects its own logger. */
export const stderrLogger: FrontDoorLogger = {
  warn: (msg, fields) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg, ...fields })}\n`),
  error: (msg, fields) => process.stderr.write(`${JSON.stringify({ level: 'error', msg, ...fields })}\n`),
};

export interface Limiters {
  /** Taken once per WS upgrade, keyed `ip:<address>` (before credentials are checked). */
  connect: RateLimiter;
  /** Taken once per chat.send / completion, keyed `tenant:<t>:user:<u>`. */
  chat: RateLimiter;
}

export interface FrontDoorContext {
  backend: GatewayBackend;
  authenticator: Authenticator;
  limiters: Limiters;
  metrics: GatewayMetrics;
  runs: RunTracker;
  config: FrontDoorConfig;
  logger: FrontDoorLogger;
  engine: Engine;
  startedAt: number;
  shuttingDown: boolean;
}

export function chatLimitKey(p: Principal): string {
  return `tenant:${p.tenant}:user:${p.user}`;
}

/** Takes one token or throws RATE_LIMITED carrying the limiter's wait. */
export async function takeOrThrow(
  ctx: FrontDoorContext,
  limiter: keyof Limiters,
  key: string,
): Promise<void> {
  const decision = await ctx.limiters[limiter].take(key);
  if (decision.allowed) return;
  ctx.metrics.rateLimited.inc({ limiter });
  throw new TroupeError('RATE_LIMITED', `Too many ${limiter === 'chat' ? 'chat requests' : 'connections'}, retry later`, {
    reason: `${limiter}_rate`,
    retryAfterMs: Math.max(1, Math.ceil(decision.retryAfterMs)),
  });
}

/** Refuses new work while shutting down (clients retry on another instance). */
export function assertAccepting(ctx: FrontDoorContext): void {
  if (ctx.shuttingDown) throw new TroupeError('UNAVAILABLE', 'The server is shutting down', { reason: 'shutting_down' });
}

/** Verifies a bearer credential; anything but a catalogue error counts as bad credentials. */
export async function authenticate(ctx: FrontDoorContext, credential: string): Promise<Principal> {
  if (credential.length === 0 || credential.length > 8192) {
    throw new TroupeError('UNAUTHORIZED', 'Missing or malformed credentials', { reason: 'bad_token' });
  }
  let principal: Principal;
  try {
    principal = await ctx.authenticator.authenticate(credential);
  } catch (err) {
    if (isErrorCode((err as { code?: unknown } | null)?.code)) throw err;
    ctx.logger.warn('authenticator threw a non-catalogue error; answering UNAUTHORIZED', { error: String(err) });
    throw new TroupeError('UNAUTHORIZED', 'Invalid credentials', { reason: 'bad_token', cause: err });
  }
  if (principal.expiresAt !== undefined && principal.expiresAt <= Date.now()) {
    throw new TroupeError('UNAUTHORIZED', 'Credentials have expired', { reason: 'token_expired' });
  }
  return principal;
}
