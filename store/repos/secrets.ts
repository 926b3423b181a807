import type { Queryable } from '../db.js';
import { StoreError, translateDbError } from '../errors.js';
import { firstOrNull } from '../rows.js';
import { nonNegativeInt, notFound, pageLimit } from '../validate.js';

/**
 * Secrets are stored as the opaque ciphertext security/ produces plus the version of
 * the key that sealed it (so keys can rotate). store/ never sees plaintext.
 */
export interface SealedSecret {
  tenantId: string;
  name: string;
  ciphertext: string;
  keyVersion: number;
  updatedAt: Date;
}

export interface SecretsRepo {
  put(name: string, sealed: { ciphertext: string; keyVersion: number }): Promise<void>;
  get(name: string): Promise<SealedSecret | null>;
  /** Names only, never ciphertext. */
  listNames(opts?: { limit?: number }): Promise<string[]>;
  remove(name: string): Promise<void>;
}

const NAME = /^[A-Za-z0-9_.:-]{1,128}$/;
const MAX_CIPHERTEXT = 65536;

function secretName(value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new StoreError('INVALID_REQUEST', 'secret name must be 1-128 characters of [A-Za-z0-9_.:-]');
  }
  return value;
}

export class SqlSecretsRepo implements SecretsRepo {
  constructor(private readonly q: Queryable) {}

  async put(name: string, sealed: { ciphertext: string; keyVersion: number }): Promise<void> {
    const c = sealed.ciphertext;
    if (typeof c !== 'string' || c.length === 0 || c.length > MAX_CIPHERTEXT) {
      throw new StoreError('INVALID_REQUEST', `ciphertext must be 1-${MAX_CIPHERTEXT} characters`);
    }
    await this.q
      .query(
        `INSERT INTO secrets (name, ciphertext, key_version) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id, name) DO UPDATE
           SET ciphertext = EXCLUDED.ciphertext, key_version = EXCLUDED.key_version, updated_at = now()`,
        [secretName(name), c, nonNegativeInt('keyVersion', sealed.keyVersion)],
      )
      .catch(translateDbError);
  }

  async get(name: string): Promise<SealedSecret | null> {
    const res = await this.q.query(
      'SELECT tenant_id, name, ciphertext, key_version, updated_at FROM secrets WHERE name = $1',
      [secretName(name)],
    );
    return firstOrNull<SealedSecret>(res);
  }

  async listNames(opts: { limit?: number } = {}): Promise<string[]> {
    const res = await this.q.query<{ name: string }>('SELECT name FROM secrets ORDER BY name LIMIT $1', [
      pageLimit(opts.limit),
    ]);
    return res.rows.map((r) => r.name);
  }

  async remove(name: string): Promise<void> {
    const res = await this.q.query('DELETE FROM secrets WHERE name = $1', [secretName(name)]);
    if (res.rowCount === 0) throw notFound('secret', name);
  }
}
