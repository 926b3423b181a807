/**
 * What every operator command shares: its context, exit codes, error mapping, opening
 * and closing the store, tenant checks and the audit row an admin change leaves.
 */
import { userInfo } from 'node:os';
import { StoreError, type AuditOutcome, type Store, type TenantScope } from '../store/index.js';
import type { GatewayConfig } from './config.js';
import { openGatewayStore } from './store.js';
import { NEVER } from './key_expiry.js';

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

/**
 * The configuration, or how to load it from `--config FILE` (the CLI passes a loader, so
 * that `--config` is parsed with the command's other options). A given object wins.
 */
export type ConfigSource<C> = C | ((file: string | undefined) => C);

export function resolveConfig<C extends object>(source: ConfigSource<C>, file: string | undefined): C {
  return typeof source === 'function' ? source(file) : source;
}

/** A bad or missing option: exit 2 with a message naming it. */
export class AdminUsageError extends Error {
  readonly code = 'INVALID_REQUEST';
}

/** `--expires never`: the column is NOT NULL, so "never" is the last representable day. */
export { NEVER };
/** Rows per page when walking tenants or secrets. */
export const PAGE = 200;

export const stderr = (line: string): void => {
  process.stderr.write(line + '\n');
};

export function required(value: string | undefined, option: string): string {
  if (value === undefined || value === '') throw new AdminUsageError(`${option} is required`);
  return value;
}

function osUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

/** Who made an admin change: the CLI (an operator at a shell) or an /admin/v1 caller. */
export interface AdminActor {
  /** The audit row's actor: `cli`, or the caller's user id. */
  actor: string;
  sourceIp?: string;
  /** Merged into the row's detail: how the caller came (`via`), its API key id, the OS user of the CLI. */
  detail: Record<string, unknown>;
}

/** The CLI has no source IP, so `detail.via` says where the change came from. */
export function cliActor(): AdminActor {
  return { actor: 'cli', detail: { via: 'cli', osUser: osUser() } };
}

/** Who/what/outcome of an admin change, in the tenant's audit chain. */
export function auditAdmin(
  s: TenantScope,
  action: string,
  outcome: AuditOutcome,
  target?: string,
  detail: Record<string, unknown> = {},
  who: AdminActor = cliActor(),
): Promise<unknown> {
  return s.audit.append({
    actor: who.actor, action, outcome, ...(target !== undefined ? { target } : {}),
    ...(who.sourceIp === undefined ? {} : { sourceIp: who.sourceIp }), detail: { ...who.detail, ...detail },
  });
}

/**
 * The fields an admin change touched, `{ field: [before, after] }`, for its
 * audit row. Only non-secret fields are ever passed in (never a key or a value).
 */
export function diffFields(before: Record<string, unknown> | undefined, after: Record<string, unknown> | undefined): Record<string, [unknown, unknown]> {
  const out: Record<string, [unknown, unknown]> = {};
  for (const k of new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])) {
    const a = before?.[k] ?? null;
    const b = after?.[k] ?? null;
    if (JSON.stringify(a) !== JSON.stringify(b)) out[k] = [a, b];
  }
  return out;
}

/** A tenant's row that may own a sealed secret (a provider's key, an MCP server's values), for `deleteSealedRow`. */
export interface SealedRow<R> {
  /** The audit action (`admin.provider.delete`). */
  action: string;
  get(s: TenantScope): Promise<R | null>;
  remove(s: TenantScope): Promise<R>;
  /** The secret the row owns, if any. */
  secretOf(row: R): string | null;
  /** Its non-secret fields, for the audit diff. */
  fields(row: R): Record<string, unknown>;
}

/** Deletes the row and its secret; null when the tenant has none by that id (audited either way). */
export function deleteSealedRow<R>(store: Store, tenant: string, id: string, row: SealedRow<R>, who: AdminActor): Promise<R | null> {
  return store.withTenant(tenant, async (s) => {
    if ((await row.get(s)) === null) {
      await auditAdmin(s, row.action, 'failure', id, { error: 'NOT_FOUND' }, who);
      return null;
    }
    const removed = await row.remove(s);
    const secret = row.secretOf(removed);
    if (secret !== null && (await s.secrets.get(secret)) !== null) await s.secrets.remove(secret);
    await auditAdmin(s, row.action, 'success', id, { changes: diffFields(row.fields(removed), undefined) }, who);
    return removed;
  });
}

/** Runs a command body: maps usage problems to 2 and other failures to 1, printing either. */
export async function command(ctx: Pick<AdminContext, 'err'>, body: () => Promise<number>): Promise<number> {
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

export async function withStore(ctx: AdminContext, migrate: boolean, fn: (store: Store) => Promise<number>): Promise<number> {
  if (ctx.store !== undefined) return fn(ctx.store);
  const store = await openGatewayStore(ctx.config, migrate);
  if (store === undefined) throw new StoreError('UNAVAILABLE', 'no store is configured (TROUPE_STORE=none)');
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export async function existingTenant(store: Store, tenant: string): Promise<string> {
  if ((await store.tenants.get(tenant)) === null) throw new StoreError('NOT_FOUND', `tenant ${tenant} does not exist`);
  return tenant;
}

/** Creates the tenant unless it exists; true when it was created now. */
export async function ensureTenant(store: Store, tenant: string): Promise<boolean> {
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

/** A time for tables: UTC to the minute, `-` for none, `never` for NEVER. */
export const when = (d: Date | null): string => (d === null ? '-' : d.getTime() >= NEVER.getTime() ? 'never' : d.toISOString().slice(0, 16).replace('T', ' '));
