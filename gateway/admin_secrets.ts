/** `troupe secrets set|rotate`: values sealed by security/secrets.ts, rotated between key versions. */
import { SecretsError } from '../security/errors.js';
import { loadKeyring, SecretBox, secretContext } from '../security/secrets.js';

export { secretContext };
import type { Store, TenantScope } from '../store/index.js';
import {
  AdminUsageError, auditAdmin, cliActor, command, ensureTenant, EXIT_FAILED, EXIT_OK, existingTenant, PAGE, required, stderr, withStore,
  type AdminActor, type AdminContext,
} from './admin_support.js';

export interface SecretsSetOptions { tenant?: string; name?: string; value?: string }
export interface SecretsRotateOptions { tenant?: string }

/** The keyring, loaded once, and the version new values are sealed under. */
export interface OpenBox { box: SecretBox; version: number }

/**
 * Seals `value` under the current key version and stores it in the tenant
 * (which must exist), audited without the value: the one way both `troupe
 * secrets set` and PUT /admin/v1/secrets/:name store a secret.
 */
export async function setSecret(store: Store, sealer: OpenBox, tenant: string, name: string, value: string, who: AdminActor): Promise<{ created: boolean }> {
  return store.withTenant(tenant, (s) => sealSecret(s, sealer, name, value, who));
}

/** `setSecret` inside a transaction the caller holds (a provider's key, stored with its provider or not at all). */
export async function sealSecret(s: TenantScope, sealer: OpenBox, name: string, value: string, who: AdminActor): Promise<{ created: boolean }> {
  const before = await s.secrets.get(name);
  await s.secrets.put(name, { ciphertext: sealer.box.encrypt(value, secretContext(s.tenantId, name)), keyVersion: sealer.version });
  await auditAdmin(s, 'admin.secret.set', 'success', name, {
    keyVersion: sealer.version, created: before === null,
    changes: { keyVersion: [before?.keyVersion ?? null, sealer.version] },
  }, who);
  return { created: before === null };
}

/** A tenant's secret opened, for the worker that needs it (a provider's key, an MCP server's values); null when none is stored. */
export async function openSecret(store: Store, sealer: OpenBox, tenant: string, name: string): Promise<string | null> {
  const sealed = await store.withTenant(tenant, (s) => s.secrets.get(name));
  return sealed === null ? null : sealer.box.decrypt(sealed.ciphertext, secretContext(tenant, name));
}

/**
 * The keyring from TROUPE_ENCRYPTION_KEY or the data dir's key file (generated there when there is none),
 * ready to seal and open; `warn` is told of a generated key or a file others can read.
 */
export async function openKeyring(opts: { env: Record<string, string | undefined>; dataDir: string; warn: (msg: string) => void }): Promise<OpenBox> {
  const loaded = await loadKeyring({ env: opts.env, dataDir: opts.dataDir });
  for (const w of loaded.warnings) opts.warn(w);
  return { box: new SecretBox(loaded.keyring), version: loaded.keyring.current };
}

function openSecretBox(ctx: AdminContext): Promise<OpenBox> {
  const err = ctx.err ?? stderr;
  return openKeyring({ env: ctx.env ?? process.env, dataDir: ctx.config.dataDir, warn: (w) => err(`troupe: warning: ${w}`) });
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
      await setSecret(store, { box, version }, tenant, name, value, cliActor());
      ctx.out(`stored secret ${name} for tenant ${tenant} (key version ${version})`);
      return EXIT_OK;
    });
  });
}

export interface RotateReport { reencrypted: number; current: number; failed: { name: string; reason: string }[] }

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

/** Re-seals one tenant's secrets under the current key version; audited when anything changed (or failed). */
export function rotateSecrets(store: Store, sealer: OpenBox, tenant: string, who: AdminActor): Promise<RotateReport> {
  return store.withTenant(tenant, async (s) => {
    const report = await rotateTenant(s, sealer.box, sealer.version);
    if (report.reencrypted + report.failed.length > 0) {
      await auditAdmin(s, 'admin.secrets.rotate', report.failed.length === 0 ? 'success' : 'failure', undefined, {
        keyVersion: sealer.version, reencrypted: report.reencrypted, failed: report.failed.map((f) => f.name),
      }, who);
    }
    return report;
  });
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
        const r = await rotateSecrets(store, { box, version }, tenant, cliActor());
        for (const f of r.failed) err(`troupe: secret ${tenant}/${f.name} was left as it is: ${f.reason}`);
        failures += r.failed.length;
        ctx.out(`${tenant}: ${r.reencrypted} re-encrypted, ${r.current} already at key version ${version}${r.failed.length > 0 ? `, ${r.failed.length} FAILED` : ''}`);
      }
      if (tenants.length === 0) ctx.out('no tenants');
      return failures === 0 ? EXIT_OK : EXIT_FAILED;
    });
  });
}
