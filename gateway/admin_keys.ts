/** `troupe keys create|list|revoke`: API keys, of which only the SHA-256 is stored. */
import { invalidateApiKey } from './api_key_cache.js';
import { generateApiKey } from '../security/api_keys.js';
import { SecurityError } from '../security/errors.js';
import { parseTtl } from '../security/jwt.js';
import { StoreError, type ApiKey, type Store } from '../store/index.js';
import {
  AdminUsageError, auditAdmin, cliActor, command, diffFields, ensureTenant, EXIT_OK, existingTenant, NEVER, required, when, withStore,
  type AdminActor, type AdminContext,
} from './admin_support.js';
import { formatTable } from './table.js';

export interface KeysCreateOptions { tenant?: string; name?: string; scopes?: string[]; expires?: string }
export interface KeysListOptions { tenant?: string }
export interface KeysRevokeOptions { tenant?: string; id?: string }

export const DEFAULT_KEY_EXPIRY = '90d';
const MAX_LISTED_KEYS = 500;

function parseExpiry(text: string, now = Date.now()): Date {
  if (text === 'never') return NEVER;
  try {
    return new Date(now + parseTtl(text) * 1000);
  } catch (err) {
    if (err instanceof SecurityError) throw new AdminUsageError(`--expires: ${err.message}, or "never"`);
    throw err;
  }
}

export interface NewKey { name: string; scopes: string[]; expiresAt: Date; userId?: string }

/**
 * Creates a key in the tenant (which must exist) and audits it: the one way
 * both `troupe keys create` and POST /admin/v1/api-keys make a key. The key
 * itself is returned once; only its SHA-256 is stored.
 */
export async function createApiKey(store: Store, tenant: string, input: NewKey, who: AdminActor): Promise<{ key: string; record: ApiKey }> {
  const generated = generateApiKey();
  const record = await store.withTenant(tenant, async (s) => {
    const k = await s.apiKeys.create({ id: generated.id, keyHash: generated.hash, ...input });
    const fields = { name: k.name, scopes: k.scopes, expiresAt: k.expiresAt.toISOString(), userId: k.userId };
    await auditAdmin(s, 'admin.key.create', 'success', k.id, { ...fields, changes: diffFields(undefined, fields) }, who);
    return k;
  });
  return { key: generated.key, record };
}

/**
 * Revokes a key of the tenant and audits it (idempotent for a revoked key). An
 * unknown id, or another tenant's (RLS hides it), is NOT_FOUND and audited as a
 * failure. Returns the key's hash, for the caller to drop from caches.
 */
export async function revokeApiKey(store: Store, tenant: string, id: string, who: AdminActor): Promise<{ hash: string; revokedAt: Date }> {
  try {
    return await store.withTenant(tenant, async (s) => {
      const before = await s.q.query<{ revoked_at: Date | null }>('SELECT revoked_at FROM api_keys WHERE id = $1', [id]);
      await s.apiKeys.revoke(id);
      const row = await s.q.query<{ key_hash: string; revoked_at: Date }>('SELECT key_hash, revoked_at FROM api_keys WHERE id = $1', [id]);
      const revokedAt = new Date(row.rows[0].revoked_at);
      const was = before.rows[0]?.revoked_at;
      await auditAdmin(s, 'admin.key.revoke', 'success', id, {
        changes: diffFields({ revokedAt: was === null || was === undefined ? null : new Date(was).toISOString() }, { revokedAt: revokedAt.toISOString() }),
      }, who);
      return { hash: row.rows[0].key_hash, revokedAt };
    });
  } catch (err) {
    if (!(err instanceof StoreError && err.code === 'NOT_FOUND')) throw err;
    // The failed unit of work rolled back; the attempt is still worth a row.
    await store.withTenant(tenant, (s) => auditAdmin(s, 'admin.key.revoke', 'failure', id, { error: 'NOT_FOUND' }, who));
    throw new StoreError('NOT_FOUND', `tenant ${tenant} has no API key with id ${id}`);
  }
}

/** `troupe keys create`: the key is printed once; only its SHA-256 is stored. */
export function keysCreate(opts: KeysCreateOptions, ctx: AdminContext): Promise<number> {
  return command(ctx, async () => {
    const tenant = required(opts.tenant, '--tenant');
    const name = required(opts.name, '--name');
    const scopes = opts.scopes ?? [];
    const expiresAt = parseExpiry(opts.expires ?? DEFAULT_KEY_EXPIRY);
    return withStore(ctx, true, async (store) => {
      if (await ensureTenant(store, tenant)) ctx.out(`created tenant ${tenant}`);
      const { key: generated, record: key } = await createApiKey(store, tenant, { name, scopes, expiresAt }, cliActor());
      ctx.out(`created API key ${key.id} "${name}" for tenant ${tenant} (scopes: ${scopes.join(' ') || '-'}, expires: ${when(key.expiresAt)})`);
      ctx.out('');
      ctx.out(`  ${generated}`);
      ctx.out('');
      ctx.out('store it now: it cannot be shown again (only its SHA-256 hash is kept)');
      return EXIT_OK;
    });
  });
}

/** `troupe keys list`: metadata only, never the hash. */
export function keysList(opts: KeysListOptions, ctx: AdminContext): Promise<number> {
  return command(ctx, async () => {
    const tenant = required(opts.tenant, '--tenant');
    return withStore(ctx, true, async (store) => {
      await existingTenant(store, tenant);
      const keys = await store.withTenant(tenant, (s) => s.apiKeys.list({ limit: MAX_LISTED_KEYS }));
      if (keys.length === 0) {
        ctx.out(`tenant ${tenant} has no API keys`);
        return EXIT_OK;
      }
      const rows = keys.map((k) => [k.id, k.name, k.scopes.join(' ') || '-', when(k.createdAt), when(k.expiresAt), when(k.revokedAt), when(k.lastUsedAt)]);
      for (const line of formatTable(['ID', 'NAME', 'SCOPES', 'CREATED', 'EXPIRES', 'REVOKED', 'LAST USED'], rows)) ctx.out(line);
      if (keys.length === MAX_LISTED_KEYS) ctx.out(`(first ${MAX_LISTED_KEYS} keys shown)`);
      return EXIT_OK;
    });
  });
}

/** `troupe keys revoke`: idempotent for a revoked key; an unknown id fails (and is audited). */
export function keysRevoke(opts: KeysRevokeOptions, ctx: AdminContext): Promise<number> {
  return command(ctx, async () => {
    const tenant = required(opts.tenant, '--tenant');
    const id = required(opts.id, '--id');
    return withStore(ctx, true, async (store) => {
      await existingTenant(store, tenant);
      let hash: string;
      try {
        ({ hash } = await revokeApiKey(store, tenant, id, cliActor()));
      } catch (err) {
        if (err instanceof StoreError && err.code === 'NOT_FOUND') throw new StoreError('NOT_FOUND', `${err.message} (see: troupe keys list --tenant ${tenant})`);
        throw err;
      }
      // Gateways cache key lookups in Redis: drop this one everywhere now.
      const redisUrl = (ctx.env ?? process.env).REDIS_URL;
      if (redisUrl) await invalidateApiKey(redisUrl, hash);
      ctx.out(`revoked API key ${id} of tenant ${tenant}`);
      return EXIT_OK;
    });
  });
}
