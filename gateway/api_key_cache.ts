/**
 * API-key lookups through the Redis cache (process memory first, then Redis,
 * then the store), invalidated when a key is revoked, so every gateway process
 * stops accepting it at once. Without Redis, lookups go to the store each time:
 * an in-process cache could not be invalidated by `troupe keys revoke`, which
 * runs in another process.
 */
import { RedisCache, RedisConnection } from '../store/redis/index.js';
import type { ApiKeyMatch } from '../store/index.js';

export const API_KEY_CACHE = { namespace: 'apikey', ttlMs: 60_000, l1TtlMs: 5_000 } as const;

interface CachedMatch { tenantId: string; id: string; userId: string | null; name: string; scopes: string[]; expiresAt: number }

export type ApiKeyLookup = (hash: string) => Promise<ApiKeyMatch | null>;

function decode(raw: unknown): CachedMatch | null {
  if (raw === null) return null;
  const r = raw as CachedMatch;
  if (typeof r?.tenantId !== 'string' || typeof r.id !== 'string' || !Array.isArray(r.scopes) || typeof r.expiresAt !== 'number') {
    throw new Error('malformed cached API key');
  }
  return r;
}

/** The gateway's key lookups, and how to drop a revoked key from them (here and, through Redis, everywhere). */
export interface ApiKeyCache {
  lookup: ApiKeyLookup;
  invalidate(hash: string): Promise<void>;
}

/** `find` reaches the store (the store worker's `api-key` ask in the gateway). */
export function apiKeyCache(find: ApiKeyLookup, redis: RedisConnection | undefined): ApiKeyCache {
  if (redis === undefined) return { lookup: find, invalidate: async () => undefined };
  const cache = new RedisCache<CachedMatch | null>(redis, { ...API_KEY_CACHE, decode });
  return {
    lookup: async (hash) => {
      const hit: CachedMatch | null = (await cache.get(hash, async () => {
        const m = await find(hash);
        return m === null ? null : { ...m, expiresAt: m.expiresAt.getTime() };
      })) ?? null;
      return hit === null ? null : { ...hit, expiresAt: new Date(hit.expiresAt) };
    },
    invalidate: (hash) => cache.invalidate(hash),
  };
}

/** Drops a key from every process's cache (after `troupe keys revoke`). */
export async function invalidateApiKey(redisUrl: string, hash: string): Promise<void> {
  const redis = new RedisConnection({ url: redisUrl });
  try {
    if (!(await redis.waitUntilUp(3_000))) throw new Error(`Redis at ${redisUrl} is not reachable`);
    const cache = new RedisCache<CachedMatch | null>(redis, { ...API_KEY_CACHE, decode });
    await cache.invalidate(hash);
    await cache.close();
  } finally {
    await redis.close();
  }
}
