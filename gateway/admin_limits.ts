/**
 * A tenant's limit on the definitions it adds of its own (providers, MCP servers), checked twice:
 *
 *   edge (main thread)       checkTenantLimit: a cheap pre-check, two reads, so a PUT
 *                            bound to be refused opens no keyring and seals nothing
 *   store worker, in the     admitCreation: the check that holds; under the tenant's creation
 *   put's own transaction    lock, so concurrent PUTs (one PGlite connection, or pooled
 *                            PostgreSQL connections of several gateways) count one after another
 *
 * Both refuse with the same INVALID_REQUEST too_many on `id`. Replacing a definition that exists
 * is always allowed. Light on purpose: the router imports it on the main thread.
 */
import { TroupeError } from '../transports/errors.js';

/** The kinds of definition a tenant's limit counts, named as TenantScope's repositories. */
export type LimitedKind = 'providers' | 'mcpServers';

const NOUN: Readonly<Record<LimitedKind, string>> = { providers: 'providers of its own', mcpServers: 'MCP servers' };

function tooMany(kind: LimitedKind, max: number): TroupeError {
  return new TroupeError('INVALID_REQUEST', `a tenant has at most ${max} ${NOUN[kind]}`, { reason: 'too_many', field: 'id' });
}

/** The pre-check: refuses a new definition once the tenant holds `max`; for one that exists, the list is not read. */
export async function checkTenantLimit(
  kind: LimitedKind, existing: () => Promise<unknown>, list: (limit: number) => Promise<readonly unknown[]>, max: number,
): Promise<void> {
  if ((await existing()) !== null) return;
  if ((await list(max)).length >= max) throw tooMany(kind, max);
}

/** What admitCreation reads: the kind's repository in the put's transaction (TenantScope's providers or mcpServers). */
export interface LimitedRows<T> {
  get(id: string): Promise<T | null>;
  countForCreate(): Promise<number>;
}

/**
 * The check that holds: run in the put's transaction, before anything is written or sealed. Answers the row
 * the put replaces (null for a creation), so the put need not read it again.
 */
export async function admitCreation<T>(rows: LimitedRows<T>, kind: LimitedKind, id: string, max: number): Promise<T | null> {
  const current = await rows.get(id);
  if (current !== null) return current;
  if ((await rows.countForCreate()) < max) return null;
  // A concurrent PUT of the same id may have created it while this one waited for the lock: then this is a replace.
  const created = await rows.get(id);
  if (created === null) throw tooMany(kind, max);
  return created;
}
