/**
 * What the WS and HTTP handlers share: the injected collaborators plus the
 * front door's own state. Built once by createFrontDoor; handlers see only this.
 */
import type { AccessContext } from './access.js';
import type { Authenticator, Principal, RateDecision, ScopedLimiter, LimitKeys } from '../security/types.js';
import type { Caller } from '../actors/chat_contract.js';
import type { GatewayBackend } from './backend.js';
import type { FrontDoorConfig } from './config.js';
import type { Engine } from './engine.js';
import type { GatewayMetrics } from './metrics.js';
import type { RunTracker } from './run_tracker.js';
import type { BudgetGate, UsageLedger } from './usage.js';
import { carriesCatalogueCode, TroupeError } from './errors.js';

export interface FrontDoorLogger {
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface Limiters {
  /**
   * Taken with `{ip}` at each WS upgrade (before credentials), then with `{tenant, user}` at `connect`;
   * the same for each sign-in (POST /admin/v1/token).
   */
  connect: ScopedLimiter;
  /** Taken with `{tenant, user, ip}` once per chat.send / completion. */
  chat: ScopedLimiter;
}

export interface FrontDoorContext extends AccessContext {
  backend: GatewayBackend;
  authenticator: Authenticator;
  limiters: Limiters;
  metrics: GatewayMetrics;
  runs: RunTracker;
  /** Usage budgets checked before each run; absent: none. */
  budgets?: BudgetGate;
  /** Told of every run's end; serves GET /v1/usage. Absent: usage is not kept. */
  usage?: UsageLedger;
  config: FrontDoorConfig;
  logger: FrontDoorLogger;
  engine: Engine;
  startedAt: number;
  shuttingDown: boolean;
}

/** The limit scopes of an authenticated caller (user keys are unique across tenants). */
export function limitKeys(p: Caller, ip?: string): LimitKeys {
  return { tenant: p.tenant, user: `${p.tenant}:${p.user}`, ...(ip === undefined ? {} : { ip }) };
}

/** Authenticators and limiters may sit on Redis or a database: never wait on them forever. */
const COLLABORATOR_TIMEOUT_MS = 5000;

function bounded<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TroupeError('UNAVAILABLE', `The ${what} did not answer in time`, { reason: `${what}_timeout` })),
      COLLABORATOR_TIMEOUT_MS,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Takes one token or throws RATE_LIMITED carrying the limiter's wait. A broken
 * limiter fails closed (UNAVAILABLE, retryable): refusing work is safer than
 * serving it unmetered.
 */
export async function takeOrThrow(
  ctx: FrontDoorContext,
  limiter: keyof Limiters,
  keys: LimitKeys,
): Promise<void> {
  let decision: RateDecision;
  try {
    // An in-process limiter decides at once: no promise to wait on, no deadline to arm.
    const l = ctx.limiters[limiter];
    decision = l.takeNow?.(keys) ?? await bounded(l.take(keys), 'limiter');
  } catch (err) {
    if (carriesCatalogueCode(err)) throw err;
    ctx.logger.error('rate limiter failed', { limiter, error: String(err) });
    throw new TroupeError('UNAVAILABLE', 'Rate limiter unavailable, retry later', { reason: 'limiter_unavailable', retryAfterMs: 1000 });
  }
  if (decision.allowed) return;
  ctx.metrics.rateLimited.inc({ limiter });
  throw new TroupeError('RATE_LIMITED', `Too many ${limiter === 'chat' ? 'chat requests' : 'connections and sign-ins'}, retry later`, {
    reason: `${limiter}_rate`,
    retryAfterMs: Math.max(1, Math.ceil(decision.retryAfterMs)),
  });
}

/** Checks the caller's budgets (when the gateway has any); a broken gate fails closed like the limiter. */
export async function checkBudget(ctx: FrontDoorContext, caller: Caller): Promise<void> {
  if (ctx.budgets === undefined) return;
  try {
    await bounded(ctx.budgets.check(caller), 'budget');
  } catch (err) {
    if (carriesCatalogueCode(err)) throw err;
    ctx.logger.error('budget check failed', { error: String(err) });
    throw new TroupeError('UNAVAILABLE', 'Budget counter unavailable, retry later', { reason: 'budget_unavailable', retryAfterMs: 1000 });
  }
}

/** Refuses new work while shutting down (clients retry on another instance). */
export function assertAccepting(ctx: FrontDoorContext): void {
  if (ctx.shuttingDown) throw new TroupeError('UNAVAILABLE', 'The server is shutting down', { reason: 'shutting_down' });
}

/** The token of an `Authorization: Bearer <token>` header, if that is what it holds. */
export function bearerToken(authorization: string): string | undefined {
  const m = /^Bearer[ \t]+(\S+)\s*$/i.exec(authorization);
  return m === null ? undefined : m[1];
}

/**
 * Refuses a principal authenticated earlier whose API key has since been revoked
 * or has expired (UNAUTHORIZED, reason `revoked`); a store that does not answer
 * is UNAVAILABLE, as for a first authentication.
 */
export async function assertStillValid(ctx: FrontDoorContext, principal: Principal, ip?: string): Promise<void> {
  const check = ctx.authenticator.stillValid;
  if (check === undefined) return;
  if (await bounded(check.call(ctx.authenticator, principal, ip === undefined ? undefined : { ip }), 'authenticator')) return;
  throw new TroupeError('UNAUTHORIZED', 'The API key behind these credentials was revoked or has expired', { reason: 'revoked' });
}

/** Verifies a bearer credential; anything but a catalogue error counts as bad credentials. */
export async function authenticate(ctx: FrontDoorContext, credential: string, ip?: string): Promise<Principal> {
  if (credential.length === 0 || credential.length > 8192) {
    throw new TroupeError('UNAUTHORIZED', 'Missing or malformed credentials', { reason: 'bad_token' });
  }
  let principal: Principal;
  try {
    principal = await bounded(ctx.authenticator.authenticate(credential, ip === undefined ? undefined : { ip }), 'authenticator');
  } catch (err) {
    if (carriesCatalogueCode(err)) throw err;
    ctx.logger.warn('authenticator threw a non-catalogue error; answering UNAUTHORIZED', { error: String(err) });
    throw new TroupeError('UNAUTHORIZED', 'Invalid credentials', { reason: 'bad_token', cause: err });
  }
  if (principal.expiresAt !== undefined && principal.expiresAt <= Date.now()) {
    throw new TroupeError('UNAUTHORIZED', 'Credentials have expired', { reason: 'token_expired' });
  }
  return principal;
}
