/**
 * Who may reach the agent through a channel. `open`: anyone. `allowlist`:
 * the configured platform user ids. `pairing` (the default): the configured
 * ids plus the users an operator approved with `troupe channels pair`; an
 * unknown user's direct message gets a one-time code instead of an answer,
 * so a stranger cannot spend the owner's LLM budget.
 */
import { randomInt } from 'node:crypto';
import type { ChannelSpec } from './config.js';

/** Where pairing requests and approvals live (the store's channel_pairings table, or memory). */
export interface PairingStore {
  isApproved(tenant: string, channel: string, user: string): Promise<boolean>;
  /** The user's pending code, created (with `code`) unless one is pending already. */
  request(tenant: string, channel: string, user: string, code: string, userName?: string): Promise<string>;
  /** Approves the user holding `code`; the user id, or undefined for no such pending code. */
  approve(tenant: string, channel: string, code: string): Promise<string | undefined>;
}

export type AccessVerdict = { kind: 'allowed' } | { kind: 'denied' } | { kind: 'pairing'; code: string };

/** Eight characters from an alphabet with no look-alikes (0/O, 1/I/L). */
export function pairingCode(): string {
  const alphabet = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
  let out = '';
  for (let i = 0; i < 8; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

const MAX_CACHED_APPROVALS = 50_000;

export class AccessControl {
  readonly #allowed: Set<string>;
  /** Approvals already read from the store (only positive answers are cached: approvals come from another process). */
  readonly #approved = new Set<string>();

  constructor(private readonly spec: ChannelSpec, private readonly pairings: PairingStore) {
    this.#allowed = new Set(spec.access.users);
  }

  async check(user: string, direct: boolean, userName?: string): Promise<AccessVerdict> {
    const mode = this.spec.access.mode;
    if (mode === 'open' || this.#allowed.has(user) || this.#approved.has(user)) return { kind: 'allowed' };
    if (mode === 'allowlist') return { kind: 'denied' };
    if (await this.pairings.isApproved(this.spec.tenant, this.spec.id, user)) {
      if (this.#approved.size >= MAX_CACHED_APPROVALS) this.#approved.clear();
      this.#approved.add(user);
      return { kind: 'allowed' };
    }
    if (!direct) return { kind: 'denied' };
    return { kind: 'pairing', code: await this.pairings.request(this.spec.tenant, this.spec.id, user, pairingCode(), userName) };
  }
}

/** Pairings kept in memory: for a gateway with no store (TROUPE_STORE=none) and for tests. */
export class MemoryPairingStore implements PairingStore {
  readonly #pending = new Map<string, { user: string; code: string }>();
  readonly #approved = new Set<string>();

  isApproved(tenant: string, channel: string, user: string): Promise<boolean> {
    return Promise.resolve(this.#approved.has(`${tenant}\u0000${channel}\u0000${user}`));
  }

  request(tenant: string, channel: string, user: string, code: string): Promise<string> {
    const key = `${tenant}\u0000${channel}\u0000${user}`;
    const existing = this.#pending.get(key);
    if (existing !== undefined) return Promise.resolve(existing.code);
    if (this.#pending.size >= 10_000) this.#pending.delete(this.#pending.keys().next().value as string);
    this.#pending.set(key, { user, code });
    return Promise.resolve(code);
  }

  approve(tenant: string, channel: string, code: string): Promise<string | undefined> {
    for (const [key, p] of this.#pending) {
      if (p.code === code && key.startsWith(`${tenant}\u0000${channel}\u0000`)) {
        this.#pending.delete(key);
        this.#approved.add(key);
        return Promise.resolve(p.user);
      }
    }
    return Promise.resolve(undefined);
  }
}
