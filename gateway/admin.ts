/**
 * Operator commands over the data layer: `troupe migrate`, `keys`, `secrets`, `audit`.
 *
 * Each command takes its parsed options and an AdminContext and returns an exit code
 * (0 ok, 1 failed, 2 bad or missing option). It prints only through `out`/`err`, opens
 * the configured store itself (unless handed one) and always closes what it opened.
 * Every change it makes leaves an audit row in the tenant's chain, actor `cli`.
 */
import { userInfo } from 'node:os';
import { generateApiKey } from '../security/api_keys.js';
import { SecretsError, SecurityError } from '../security/errors.js';
import { parseTtl } from '../security/jwt.js';
import { loadKeyring, SecretBox, type SecretContext } from '../security/secrets.js';
import { StoreError, type AuditOutcome, type ChainVerdict, type Store, type TenantScope } from '../store/index.js';
import type { GatewayConfig } from './config.js';
import { openGatewayStore } from './store.js';
import { formatTable } from './table.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface AdminContext {
  config: Pick<GatewayConfig, 'store' | 'dataDir'>;
  out: (line: string) => void;
  /** Warnings and errors; default: stderr. */
  err?: (line: string) => void;
  /** Source of TROUPE_ENCRYPTION_KEY and friends; default: process.env. */
  env?: Record<string, string | undefined>;
  /** A store the caller opened (and will close); otherwise the configured one is opened. */
  store?: Store;
}

export interface KeysCreateOptions { tenant?: string; name?: string; scopes?: string[]; expires?: string }
export interface KeysListOptions { tenant?: string }
export interface KeysRevokeOptions { tenant?: string; id?: string }
export interface SecretsSetOptions { tenant?: string; name?: string; value?: string }
export interface SecretsRotateOptions { tenant?: string }
export interface AuditVerifyOptions { tenant?: string }

/** A bad or missing option: exit 2 with a message naming it. */
export class AdminUsageError extends Error {
  readonly code = 'INVALID_REQUEST';
}

export const DEFAULT_KEY_EXPIRY = '90d';
/** `--expires never`: the column is NOT NULL, so "never" is the last representable day. */
export const NEVER = new Date('9999-12-31T23:59:59.000Z');
const PAGE = 200;
const MAX_LISTED_KEYS = 500;

const stderr = (line: string): void => {
  process.stderr.write(line + '\n');
};

/** The AES-GCM associated data for a stored secret: bound to its tenant and name. */
export function secretContext(tenant: string, name: string): SecretContext {
  return { tenant, recordId: `secret:${name}` };
}

function required(value: string | undefined, option: string): string {
  if (value === undefined || value === '') throw new AdminUsageError(`${option} is required`);
  return value;
}

function parseExpiry(text: string, now = Date.now()): Date {
  if (text === 'never') return NEVER;
  try {
    return new Date(now + parseTtl(text) * 1000);
  } catch (err) {
    if (err instanceof SecurityError) throw new AdminUsageError(`--expires: ${err.message}, or "never"`);
    throw err;
  }
}

function osUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

/** Who/what/outcome of an admin change; the CLI has no source IP, so `detail.via` says where. */
function auditAdmin(
  s: TenantScope,
  action: string,
  outcome: AuditOutcome,
  target?: string,
  detail: Record<string, unknown> = {},
): Promise<unknown> {
  return s.audit.append({ actor: 'cli', action, outcome, ...(target !== undefined ? { target } : {}), detail: { via: 'cli', osUser: osUser(), ...detail } });
}

/** Runs a command body: maps usage problems to 2 and other failures to 1, printing either. */
async function command(ctx: AdminContext, body: () => Promise<number>): Promise<number> {
  const err = ctx.err ?? stderr;
  try {
    return await body();
  } catch (e) {
    // Store validation failures here can only come from the operator's options.
    if (e instanceof AdminUsageError || (e instanceof StoreError && e.code === 'INVALID_REQUEST')) {
      err(`troupe: ${e.message}`);
      return EXIT_USAGE;
    }
    const x = e as { code?: unknown; message?: unknown };
    err(`troupe: ${typeof x.code === 'string' ? `[${x.code}] ` : ''}${typeof x.message === 'string' ? x.message : String(e)}`);
    return EXIT_FAILED;
  }
}

async function withStore(ctx: AdminContext, migrate: boolean, fn: (store: Store) => Promise<number>): Promise<number> {
  if (ctx.store !== undefined) return fn(ctx.store);
  const store = await openGatewayStore(ctx.config, migrate);
  if (store === undefined) throw new StoreError('UNAVAILABLE', 'no store is configured (TROUPE_STORE=none)');
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function existingTenant(store: Store, tenant: string): Promise<string> {
  if ((await store.tenants.get(tenant)) === null) throw new StoreError('NOT_FOUND', `tenant ${tenant} does not exist`);
  return tenant;
}

/** Creates the tenant unless it exists; true when it was created now. */
async function ensureTenant(store: Store, tenant: string): Promise<boolean> {
  if ((await store.tenants.get(tenant)) !== null) return false;
  try {
    await store.tenants.create({ id: tenant, name: tenant });
    return true;
  } catch (err) {
    // Another operator created it between our read and our insert.
    if (err instanceof StoreError && err.code === 'INVALID_REQUEST' && (await store.tenants.get(tenant)) !== null) return false;
    throw err;
  }
}

async function openSecretBox(ctx: AdminContext): Promise<{ box: SecretBox; version: number }> {
  const loaded = await loadKeyring({ env: ctx.env ?? process.env, dataDir: ctx.config.dataDir });
  for (const w of loaded.warnings) (ctx.err ?? stderr)(`troupe: warning: ${w}`);
  return { box: new SecretBox(loaded.keyring), version: loaded.keyring.current };
}

const when = (d: Date | null): string => (d === null ? '-' : d.getTime() >= NEVER.getTime() ? 'never' : d.toISOString().slice(0, 16).replace('T', ' '));

/** `troupe migrate`: applies pending migrations (start-up does the same) and says which. */
export function migrateCommand(ctx: AdminContext): Promise<number> {
  return command(ctx, () =>
    withStore(ctx, false, async (store) => {
      const r = await store.migrate();
      ctx.out(r.applied.length === 0
        ? `schema up to date (version ${r.current})`
        : `applied migrations ${r.applied.join(', ')} (schema now at version ${r.current})`);
      return EXIT_OK;
    }));
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
      try {
        await store.withTenant(tenant, async (s) => {
          await s.apiKeys.revoke(id);
          await auditAdmin(s, 'admin.key.revoke', 'success', id);
        });
      } catch (err) {
        if (!(err instanceof StoreError && err.code === 'NOT_FOUND')) throw err;
        // The failed unit of work rolled back; the attempt is still worth a row.
        await store.withTenant(tenant, (s) => auditAdmin(s, 'admin.key.revoke', 'failure', id, { error: 'NOT_FOUND' }));
        throw new StoreError('NOT_FOUND', `tenant ${tenant} has no API key with id ${id} (see: troupe keys list --tenant ${tenant})`);
      }
      ctx.out(`revoked API key ${id} of tenant ${tenant}`);
      return EXIT_OK;
    });
  });
}

/** `troupe secrets set`: seals the value under the current key version. */
export function secretsSet(opts: SecretsSetOptions, ctx: AdminContext): Promise<number> {
  return command(ctx, async () => {
    const tenant = required(opts.tenant, '--tenant');
    const name = required(opts.name, '--name');
    if (opts.value === undefined) throw new AdminUsageError('--value is required');
    const value = opts.value;
    const { box, version } = await openSecretBox(ctx);
    return withStore(ctx, true, async (store) => {
      if (await ensureTenant(store, tenant)) ctx.out(`created tenant ${tenant}`);
      await store.withTenant(tenant, async (s) => {
        await s.secrets.put(name, { ciphertext: box.encrypt(value, secretContext(tenant, name)), keyVersion: version });
        await auditAdmin(s, 'admin.secret.set', 'success', name, { keyVersion: version });
      });
      ctx.out(`stored secret ${name} for tenant ${tenant} (key version ${version})`);
      return EXIT_OK;
    });
  });
}

interface RotateReport { reencrypted: number; current: number; failed: { name: string; reason: string }[] }

async function rotateTenant(s: TenantScope, box: SecretBox, version: number): Promise<RotateReport> {
  const report: RotateReport = { reencrypted: 0, current: 0, failed: [] };
  let after = '';
  for (;;) {
    const page = await s.q.query<{ name: string; ciphertext: string; key_version: number }>(
      'SELECT name, ciphertext, key_version FROM secrets WHERE name > $1 ORDER BY name LIMIT $2',
      [after, PAGE],
    );
    for (const row of page.rows) {
      try {
        if (Number(row.key_version) === version && !box.needsRotation(row.ciphertext)) {
          report.current++;
          continue;
        }
        const sealed = box.reencrypt(row.ciphertext, secretContext(s.tenantId, row.name));
        await s.secrets.put(row.name, { ciphertext: sealed, keyVersion: version });
        report.reencrypted++;
      } catch (err) {
        // SecretsError messages never carry plaintext; anything else is a real fault.
        if (!(err instanceof SecretsError)) throw err;
        report.failed.push({ name: row.name, reason: err.message });
      }
    }
    if (page.rows.length < PAGE) return report;
    after = page.rows[page.rows.length - 1].name;
  }
}

async function allTenantIds(store: Store): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const page = await store.db.query<{ id: string }>('SELECT id FROM tenants WHERE id > $1 ORDER BY id LIMIT $2', [ids.at(-1) ?? '', PAGE]);
    ids.push(...page.rows.map((r) => r.id));
    if (page.rows.length < PAGE) return ids;
  }
}

/** `troupe secrets rotate`: re-encrypts every secret not yet under the current key version. */
export function secretsRotate(opts: SecretsRotateOptions, ctx: AdminContext): Promise<number> {
  return command(ctx, async () => {
    const { box, version } = await openSecretBox(ctx);
    const err = ctx.err ?? stderr;
    return withStore(ctx, true, async (store) => {
      const tenants = opts.tenant !== undefined ? [await existingTenant(store, required(opts.tenant, '--tenant'))] : await allTenantIds(store);
      let failures = 0;
      for (const tenant of tenants) {
        const r = await store.withTenant(tenant, async (s) => {
          const report = await rotateTenant(s, box, version);
          if (report.reencrypted + report.failed.length > 0) {
            await auditAdmin(s, 'admin.secrets.rotate', report.failed.length === 0 ? 'success' : 'failure', undefined, {
              keyVersion: version, reencrypted: report.reencrypted, failed: report.failed.map((f) => f.name),
            });
          }
          return report;
        });
        for (const f of r.failed) err(`troupe: secret ${tenant}/${f.name} was left as it is: ${f.reason}`);
        failures += r.failed.length;
        ctx.out(`${tenant}: ${r.reencrypted} re-encrypted, ${r.current} already at key version ${version}${r.failed.length > 0 ? `, ${r.failed.length} FAILED` : ''}`);
      }
      if (tenants.length === 0) ctx.out('no tenants');
      return failures === 0 ? EXIT_OK : EXIT_FAILED;
    });
  });
}

/** `troupe audit verify`: recomputes each chain; the first broken link fails the command. */
export function auditVerify(opts: AuditVerifyOptions, ctx: AdminContext): Promise<number> {
  return command(ctx, async () => {
    const tenant = opts.tenant === undefined ? undefined : required(opts.tenant, '--tenant');
    return withStore(ctx, true, async (store) => {
      const verdicts: Map<string, ChainVerdict> = tenant !== undefined
        ? new Map([[tenant, await store.verifyAuditChain(tenant)]])
        : await store.verifyAllAuditChains();
      let broken = 0;
      let rows = 0;
      for (const [id, v] of verdicts) {
        rows += v.checked;
        if (v.ok) {
          ctx.out(`${id}: OK, ${v.checked} rows, head ${v.headHash ?? '-'}`);
        } else {
          broken++;
          ctx.out(`${id}: BROKEN at seq ${v.brokenAt ?? '?'} (${v.reason ?? 'unknown'}); ${v.checked} rows before it are intact`);
        }
      }
      ctx.out(broken === 0
        ? `audit log OK: ${verdicts.size} chain(s), ${rows} rows checked`
        : `audit log BROKEN: ${broken} of ${verdicts.size} chain(s) fail verification`);
      return broken === 0 ? EXIT_OK : EXIT_FAILED;
    });
  });
}
