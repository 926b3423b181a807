/**
 * Contracts shared across layers. The front door (transports/) consumes these;
 * security/ and store/ provide implementations. Kept dependency-free on purpose.
 */

/** Who is calling, as established by a verified JWT or API key. */
export interface Principal {
  tenant: string;
  user: string;
  scopes: string[];
  /** Epoch milliseconds after which the credential is no longer valid, when known. */
  expiresAt?: number;
  /** `channel`: a chat-platform user, vouched for by the channel's verified webhook or socket. */
  via: 'jwt' | 'api_key' | 'channel';
  /** The API key's id, when the caller used one (usage and budgets are kept per key). */
  keyId?: string;
}

/** Where a credential was presented (for audit rows). */
export interface AuthContext {
  ip?: string;
}

/** Turns a bearer credential into a Principal, or rejects with an UNAUTHORIZED error. */
export interface Authenticator {
  authenticate(credential: string, context?: AuthContext): Promise<Principal>;
  /**
   * Whether a principal authenticated earlier still holds: false once the API
   * key it stands for (`keyId`) is revoked or expired. For connections that
   * outlive one request (WebSocket); absent: every principal holds until it expires.
   */
  stillValid?(principal: Principal, context?: AuthContext): Promise<boolean>;
}

export interface RateDecision {
  allowed: boolean;
  /** Whole tokens left in the bucket after this decision. */
  remaining: number;
  /** When not allowed: how long until `cost` tokens are available. 0 when allowed. */
  retryAfterMs: number;
}

/** The scopes one request is limited by; a scope whose key is absent is not charged. */
export interface LimitKeys {
  tenant?: string;
  /** Unique across tenants, e.g. `acme:alice`. */
  user?: string;
  ip?: string;
}

/** Limits one request by several scopes at once (security's CompositeLimiter is one). */
export interface ScopedLimiter {
  take(keys: LimitKeys, cost?: number): Promise<RateDecision>;
  /**
   * The same decision at once, for a limiter that never waits (in process); undefined when
   * it cannot decide without waiting, and `take` must be used.
   */
  takeNow?(keys: LimitKeys, cost?: number): RateDecision | undefined;
  close?(): Promise<void>;
}

/** A token-bucket limiter keyed by an opaque string (e.g. `tenant:acme`). */
export interface RateLimiter {
  take(key: string, cost?: number): Promise<RateDecision>;
  close?(): Promise<void>;
}
