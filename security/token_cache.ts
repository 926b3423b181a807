/**
 * VerifiedTokenCache: principals of tokens that passed verification, keyed by
 * the exact token text, so a client sending the same bearer token on every
 * request pays for one signature check, not one per request. Bounded (least
 * recently used goes first) and time-limited: an entry is served only until
 * the token expires (with the verifier's clock tolerance, as the verifier
 * itself would) and never longer than `maxAgeMs` after it was verified, so a
 * key withdrawn from a JWKS stops being honoured within that age. Only
 * successes are cached; a bad token is verified (and refused) every time.
 *
 *   Map (insertion order = recency):  oldest ─► … ─► newest
 *   hit: delete + set moves the entry to the newest end
 *   full: the first key (the oldest) is evicted
 */
import type { Principal } from './types.js';

export interface TokenCacheOptions {
  /** Entries at most. 0 turns the cache off. */
  readonly maxEntries: number;
  /** Tokens longer than this are not cached (bounds memory to maxEntries × this). */
  readonly maxTokenChars: number;
  /** How long after verification an entry may be served. */
  readonly maxAgeMs: number;
  /** Added to a token's `exp`, as the verifier allows. */
  readonly clockToleranceMs: number;
  readonly now: () => number;
}

interface Entry {
  readonly principal: Principal;
  /** Epoch ms after which the entry is not served. */
  readonly until: number;
}

export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: TokenCacheOptions) {}

  get size(): number {
    return this.entries.size;
  }

  /** The principal of a token verified earlier and still valid, as a fresh copy; undefined otherwise. */
  get(token: string): Principal | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    this.entries.delete(token);
    if (this.options.now() >= entry.until) return undefined;
    this.entries.set(token, entry);
    return copy(entry.principal);
  }

  /** Remembers a token that has just passed verification. */
  set(token: string, principal: Principal): void {
    const o = this.options;
    if (o.maxEntries <= 0 || token.length > o.maxTokenChars) return;
    const now = o.now();
    const expiry = principal.expiresAt === undefined ? Infinity : principal.expiresAt + o.clockToleranceMs;
    const until = Math.min(now + o.maxAgeMs, expiry);
    if (until <= now) return;
    this.entries.delete(token);
    this.entries.set(token, { principal: copy(principal), until });
    if (this.entries.size > o.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }
}

const copy = (p: Principal): Principal => ({ ...p, scopes: [...p.scopes] });
