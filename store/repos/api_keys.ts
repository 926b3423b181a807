import { createHash } from 'node:crypto';
import type { Queryable } from '../db.js';
import { StoreError, translateDbError } from '../errors.js';
import { camelRow, firstOrNull } from '../rows.js';
import { date, notFound, optionalText, pageLimit, text } from '../validate.js';

export interface ApiKey {
  tenantId: string;
  id: string;
  userId: string | null;
  name: string;
  scopes: string[];
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  createdAt: Date;
}

/** What an authenticator gets back for a presented key: only live keys are found. */
export type ApiKeyMatch = Pick<ApiKey, 'tenantId' | 'id' | 'userId' | 'name' | 'scopes' | 'expiresAt'>;

export interface NewApiKey {
  name: string;
  /** SHA-256 of the key, lowercase hex (see hashApiKey). The key itself is never stored. */
  keyHash: string;
  scopes: string[];
  expiresAt: Date;
  userId?: string;
  /** Row id; absent means a random UUID. `troupe keys create` uses the key's visible id. */
  id?: string;
}

export interface ApiKeysRepo {
  create(input: NewApiKey): Promise<ApiKey>;
  list(opts?: { limit?: number }): Promise<ApiKey[]>;
  revoke(id: string): Promise<void>;
  touchLastUsed(id: string, at?: Date): Promise<void>;
  /** Whether the tenant's key with this id exists, is unrevoked and unexpired (a sign-in token issued for it is checked so). */
  isLive(id: string): Promise<boolean>;
}

const HASH = /^[0-9a-f]{64}$/;
const SCOPE = /^[A-Za-z0-9_.:*-]{1,64}$/;
const MAX_SCOPES = 64;

/** The one way a key becomes what the database stores and looks up. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function keyHash(value: unknown): string {
  if (typeof value !== 'string' || !HASH.test(value)) {
    throw new StoreError('INVALID_REQUEST', 'keyHash must be 64 lowercase hex characters (SHA-256)');
  }
  return value;
}

function scopes(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > MAX_SCOPES || !value.every((s) => typeof s === 'string' && SCOPE.test(s))) {
    throw new StoreError('INVALID_REQUEST', `scopes must be at most ${MAX_SCOPES} strings of [A-Za-z0-9_.:*-]`);
  }
  return value as string[];
}

const COLUMNS = 'tenant_id, id, user_id, name, scopes, expires_at, revoked_at, last_used_at, created_at';

const toApiKey = (r: Record<string, unknown>): ApiKey => camelRow<ApiKey>(r);

/**
 * Finds a live (unrevoked, unexpired) key by hash across tenants. It runs through the
 * SECURITY DEFINER function, so the caller may be the app role with no tenant set.
 */
export async function findApiKeyByHash(q: Queryable, hash: string): Promise<ApiKeyMatch | null> {
  const res = await q.query('SELECT * FROM troupe_find_api_key($1)', [keyHash(hash)]);
  return firstOrNull<ApiKeyMatch>(res);
}

export class SqlApiKeysRepo implements ApiKeysRepo {
  constructor(private readonly q: Queryable) {}

  async create(input: NewApiKey): Promise<ApiKey> {
    const expires = date('expiresAt', input.expiresAt);
    const res = await this.q
      .query(
        `INSERT INTO api_keys (name, key_hash, scopes, expires_at, user_id, id)
         VALUES ($1, $2, $3, $4, $5, COALESCE($6, gen_random_uuid()::text))
         RETURNING ${COLUMNS}`,
        [
          text('name', input.name), keyHash(input.keyHash), scopes(input.scopes), expires,
          optionalText('userId', input.userId), optionalText('id', input.id, 64),
        ],
      )
      .catch(translateDbError);
    return toApiKey(res.rows[0]);
  }

  async list(opts: { limit?: number } = {}): Promise<ApiKey[]> {
    const res = await this.q.query(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id LIMIT $1`, [
      pageLimit(opts.limit),
    ]);
    return res.rows.map(toApiKey);
  }

  async revoke(id: string): Promise<void> {
    const res = await this.q.query(
      'UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1',
      [text('id', id)],
    );
    if (res.rowCount === 0) throw notFound('api key', id);
  }

  async isLive(id: string): Promise<boolean> {
    const res = await this.q.query('SELECT 1 FROM api_keys WHERE id = $1 AND revoked_at IS NULL AND expires_at > now()', [text('id', id)]);
    return res.rows.length > 0;
  }

  async touchLastUsed(id: string, at: Date = new Date()): Promise<void> {
    const res = await this.q.query('UPDATE api_keys SET last_used_at = $2 WHERE id = $1', [text('id', id), date('at', at)]);
    if (res.rowCount === 0) throw notFound('api key', id);
  }
}
