/**
 * Secrets at rest: AES-256-GCM with a random 96-bit nonce per value. The associated data
 * binds each ciphertext to its tenant and record, so a value copied to another row or
 * tenant fails to decrypt instead of leaking there.
 *
 * Sealed format (one string, safe for a TEXT column):
 *
 *   v<version>:<nonce>:<ciphertext>:<tag>      (each part base64url; nonce 12 B, tag 16 B)
 *
 * The version names the key in the Keyring, so keys can rotate: new values use the current
 * key, old ones still decrypt with theirs, and `reencrypt` moves a value to the current key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SecretsError } from './errors.js';

export interface Keyring {
  current: number;
  keys: ReadonlyMap<number, Buffer>;
}

export interface SecretContext {
  tenant: string;
  recordId: string;
}

/** The context a tenant's named secret is sealed under (`troupe secrets set`, channel credentials). */
export function secretContext(tenant: string, name: string): SecretContext {
  return { tenant, recordId: `secret:${name}` };
}

export interface SealedParts {
  v: number;
  nonce: Buffer;
  ct: Buffer;
  tag: Buffer;
}

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

function configError(reason: string, message: string): SecretsError {
  return new SecretsError('INVALID_REQUEST', reason, message);
}

export function createKeyring(current: number, keys: Iterable<readonly [number, Buffer]>): Keyring {
  const map = new Map<number, Buffer>();
  for (const [version, key] of keys) {
    if (!Number.isSafeInteger(version) || version < 1) throw configError('bad_key', `key version must be a positive integer, got ${version}`);
    if (key.length !== KEY_BYTES) throw configError('bad_key', `key version ${version} must be ${KEY_BYTES} bytes`);
    if (map.has(version)) throw configError('bad_key', `key version ${version} is given twice`);
    map.set(version, key);
  }
  if (!map.has(current)) throw configError('bad_key', `current key version ${current} has no key`);
  return { current, keys: map };
}

/** A 32-byte key written as 64 hex characters or as base64/base64url. */
export function parseKey(text: string): Buffer {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  // 32 bytes are 43 base64 characters plus one '=' of padding; Node decodes both alphabets.
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) return Buffer.from(trimmed, 'base64');
  throw configError('bad_key', `encryption key must be ${KEY_BYTES} bytes as hex or base64`);
}

function aad(version: number, ctx: SecretContext): Buffer {
  if (ctx.tenant.length === 0 || ctx.recordId.length === 0) throw configError('missing_context', 'tenant and recordId are required');
  // Length-prefixed so ("ab","c") and ("a","bc") can never produce the same bytes.
  const t = Buffer.from(ctx.tenant, 'utf8');
  const r = Buffer.from(ctx.recordId, 'utf8');
  return Buffer.concat([Buffer.from(`troupe-secret:v${version}:${t.length}:`), t, Buffer.from(`:${r.length}:`), r]);
}

export function formatSealed(p: SealedParts): string {
  return `v${p.v}:${p.nonce.toString('base64url')}:${p.ct.toString('base64url')}:${p.tag.toString('base64url')}`;
}

export function parseSealed(sealed: string): SealedParts {
  const m = /^v([1-9]\d{0,8}):([A-Za-z0-9_-]+):([A-Za-z0-9_-]*):([A-Za-z0-9_-]+)$/.exec(sealed);
  const parts = m === null ? null : {
    v: Number(m[1]), nonce: Buffer.from(m[2], 'base64url'), ct: Buffer.from(m[3], 'base64url'), tag: Buffer.from(m[4], 'base64url'),
  };
  if (parts === null || parts.nonce.length !== NONCE_BYTES || parts.tag.length !== TAG_BYTES) {
    throw new SecretsError('FORBIDDEN', 'malformed', 'sealed value is malformed');
  }
  return parts;
}

/** Encrypts and decrypts values with one keyring. */
export class SecretBox {
  readonly #keyring: Keyring;

  constructor(keyring: Keyring) {
    this.#keyring = keyring;
  }

  encrypt(plaintext: string, ctx: SecretContext): string {
    const v = this.#keyring.current;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key(v), nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(v, ctx));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return formatSealed({ v, nonce, ct, tag: cipher.getAuthTag() });
  }

  decrypt(sealed: string, ctx: SecretContext): string {
    const p = parseSealed(sealed);
    const decipher = createDecipheriv('aes-256-gcm', this.#key(p.v), p.nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(p.v, ctx));
    decipher.setAuthTag(p.tag);
    try {
      return Buffer.concat([decipher.update(p.ct), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretsError('FORBIDDEN', 'tampered', 'sealed value failed authentication (tampered, or wrong tenant/record)');
    }
  }

  /** Decrypts with whatever key sealed the value and seals it again with the current key. */
  reencrypt(sealed: string, ctx: SecretContext): string {
    return this.encrypt(this.decrypt(sealed, ctx), ctx);
  }

  needsRotation(sealed: string): boolean {
    return parseSealed(sealed).v !== this.#keyring.current;
  }

  #key(version: number): Buffer {
    const key = this.#keyring.keys.get(version);
    if (key === undefined) throw new SecretsError('INTERNAL', 'unknown_key_version', `no key for version ${version}; add it to TROUPE_ENCRYPTION_KEYS_OLD`);
    return key;
  }
}

export interface LoadedKeyring {
  keyring: Keyring;
  source: 'env' | 'file' | 'generated';
  /** Things the operator should hear about; the caller logs them (this library never prints). */
  warnings: string[];
}

export interface LoadKeyringOptions {
  env: Record<string, string | undefined>;
  dataDir: string;
}

/** `1:<key>,2:<key>`: older keys kept for decryption only. */
function parseVersionedKeys(text: string, what: string): Array<[number, Buffer]> {
  return text.split(/[,\n]/).map((s) => s.trim()).filter((s) => s.length > 0).map((entry) => {
    const m = /^(\d+):(.+)$/.exec(entry);
    if (m === null) throw configError('bad_key', `${what}: each entry must be <version>:<key>`);
    return [Number(m[1]), parseKey(m[2])];
  });
}

function positiveVersion(text: string | undefined): number {
  if (text === undefined || text === '') return 1;
  const v = Number(text);
  if (!Number.isSafeInteger(v) || v < 1) throw configError('bad_key', 'TROUPE_ENCRYPTION_KEY_VERSION must be a positive integer');
  return v;
}

/**
 * Key sources, first match wins:
 * 1. `TROUPE_ENCRYPTION_KEY` (hex or base64, 32 bytes) as version `TROUPE_ENCRYPTION_KEY_VERSION`
 *    (default 1), plus `TROUPE_ENCRYPTION_KEYS_OLD` = `1:<key>,2:<key>` for retired keys;
 * 2. `<dataDir>/encryption.key`, lines of `<version>:<key>`, the highest version current;
 * 3. a new random key written to that file with mode 0600, and a warning.
 */
export async function loadKeyring(opts: LoadKeyringOptions): Promise<LoadedKeyring> {
  const envKey = opts.env.TROUPE_ENCRYPTION_KEY;
  if (envKey !== undefined && envKey !== '') {
    const current = positiveVersion(opts.env.TROUPE_ENCRYPTION_KEY_VERSION);
    const old = parseVersionedKeys(opts.env.TROUPE_ENCRYPTION_KEYS_OLD ?? '', 'TROUPE_ENCRYPTION_KEYS_OLD');
    return { keyring: createKeyring(current, [[current, parseKey(envKey)], ...old]), source: 'env', warnings: [] };
  }
  const file = join(opts.dataDir, 'encryption.key');
  const warnings: string[] = [];
  let text: string;
  let source: LoadedKeyring['source'] = 'file';
  try {
    text = await readFile(file, 'utf8');
    if (((await stat(file)).mode & 0o077) !== 0) {
      warnings.push(`${file} is readable by other users; restricting it to 0600`);
      await chmod(file, 0o600);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
    text = `1:${randomBytes(KEY_BYTES).toString('base64')}\n`;
    try {
      await writeFile(file, text, { mode: 0o600, flag: 'wx' });
      source = 'generated';
      warnings.push(`generated a new encryption key at ${file}; back it up (losing it makes stored secrets unreadable) and set TROUPE_ENCRYPTION_KEY in production`);
    } catch (writeErr) {
      // Another process created it first: use theirs.
      if ((writeErr as NodeJS.ErrnoException).code !== 'EEXIST') throw writeErr;
      text = await readFile(file, 'utf8');
    }
  }
  const keys = parseVersionedKeys(text, file);
  if (keys.length === 0) throw configError('bad_key', `${file} holds no key`);
  return { keyring: createKeyring(Math.max(...keys.map(([v]) => v)), keys), source, warnings };
}
