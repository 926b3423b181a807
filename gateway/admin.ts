/**
 * Operator commands over the data layer: `troupe migrate`, `keys`, `secrets`, `audit`.
 *
 * Each command takes its parsed options and an AdminContext and returns an exit code
 * (0 ok, 1 failed, 2 bad or missing option). It prints only through `out`/`err`, opens
 * the configured store itself (unless handed one) and always closes what it opened.
 * Every change it makes leaves an audit row in the tenant's chain, actor `cli`.
 */
import type { ChainVerdict } from '../store/index.js';
import { command, EXIT_FAILED, EXIT_OK, required, withStore, type AdminContext } from './admin_support.js';

export { AdminUsageError, EXIT_FAILED, EXIT_OK, EXIT_USAGE, NEVER, type AdminContext } from './admin_support.js';
export { DEFAULT_KEY_EXPIRY, keysCreate, keysList, keysRevoke, type KeysCreateOptions, type KeysListOptions, type KeysRevokeOptions } from './admin_keys.js';
export { secretContext, secretsRotate, secretsSet, type SecretsRotateOptions, type SecretsSetOptions } from './admin_secrets.js';

export interface AuditVerifyOptions { tenant?: string }

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
