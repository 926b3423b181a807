/** `troupe keys create|list|revoke`: API keys, of which only the SHA-256 is stored. */
import { invalidateApiKey } from './api_key_cache.js';
import { generateApiKey } from '../security/api_keys.js';
import { SecurityError } from '../security/errors.js';
import { parseTtl } from '../security/jwt.js';
import { StoreError } from '../store/index.js';
import {
  AdminUsageError, auditAdmin, command, ensureTenant, EXIT_OK, existingTenant, NEVER, required, when, withStore,
  type AdminContext,
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

/** `troupe keys create`: the key is printed once; only its SHA-256 is stored. */
export function keysCreate(opts: KeysCreateOptions, ctx: AdminContext): Promise<number> {
  return command(ctx, async () => {
    const tenant = required(opts.tenant, '--tenant');
    const name = required(opts.name, '--name');
    const scopes = opts.scopes ?? [];
    const expiresAt = parseExpiry(opts.expires ?? DEFAULT_KEY_EXPIRY);
    return withStore(ctx, true, async (store) => {
      if (await ensureTenant(store, tenant)) ctx.out(`created tenant ${tenant}`);
      const generated = generateApiKey();
      const key = await store.withTenant(tenant, async (s) => {
        const k = await s.apiKeys.create({ id: generated.id, name, keyHash: generated.hash, scopes, expiresAt });
        await auditAdmin(s, 'admin.key.create', 'success', k.id, { name, scopes, expiresAt: k.expiresAt.toISOString() });
        return k;
      });
      ctx.out(`created API key ${key.id} "${name}" for tenant ${tenant} (scopes: ${scopes.join(' ') || '-'}, expires: ${when(key.expiresAt)})`);
      ctx.out('');
      ctx.out(`  ${generated.key}`);
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
      let hash: string | undefined;
      try {
        await store.withTenant(tenant, async (s) => {
          await s.apiKeys.revoke(id);
          await auditAdmin(s, 'admin.key.revoke', 'success', id);
          const row = await s.q.query<{ key_hash: string }>('SELECT key_hash FROM api_keys WHERE id = $1', [id]);
          hash = row.rows[0]?.key_hash;
        });
      } catch (err) {
        if (!(err instanceof StoreError && err.code === 'NOT_FOUND')) throw err;
        // The failed unit of work rolled back; the attempt is still worth a row.
        await store.withTenant(tenant, (s) => auditAdmin(s, 'admin.key.revoke', 'failure', id, { error: 'NOT_FOUND' }));
        throw new StoreError('NOT_FOUND', `tenant ${tenant} has no API key with id ${id} (see: troupe keys list --tenant ${tenant})`);
      }
      // Gateways cache key lookups in Redis: drop this one everywhere now.
      const redisUrl = (ctx.env ?? process.env).REDIS_URL;
      if (redisUrl && hash !== undefined) await invalidateApiKey(redisUrl, hash);
      ctx.out(`revoked API key ${id} of tenant ${tenant}`);
      return EXIT_OK;
    });
  });
}
