import t from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretBox, createKeyring, formatSealed, loadKeyring, parseKey, parseSealed } from '../../security/secrets.js';
import { SecretsError } from '../../security/errors.js';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const ctx = { tenant: 'acme', recordId: 'cred-1' };
const box = new SecretBox(createKeyring(1, [[1, k1]]));

function flipByte(buf: Buffer, index = 0): Buffer {
  const copy = Buffer.from(buf);
  copy[index] ^= 0x01;
  return copy;
}

function tampered(sealed: string, part: 'nonce' | 'ct' | 'tag'): string {
  const p = parseSealed(sealed);
  return formatSealed({ ...p, [part]: flipByte(p[part]) });
}

t.test('a value round-trips through encrypt and decrypt', async (t) => {
  const sealed = box.encrypt('sk-live-123 ✓', ctx);
  t.match(sealed, /^v1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+:[A-Za-z0-9_-]{22}$/);
  t.equal(box.decrypt(sealed, ctx), 'sk-live-123 ✓');
});

t.test('the ciphertext does not contain the plaintext', async (t) => {
  const sealed = box.encrypt('plainly-visible-secret', ctx);
  t.notMatch(sealed, 'plainly');
  t.notMatch(Buffer.from(parseSealed(sealed).ct).toString('latin1'), 'plainly');
});

t.test('each encryption uses a fresh nonce', async (t) => {
  const nonces = new Set(Array.from({ length: 50 }, () => parseSealed(box.encrypt('same', ctx)).nonce.toString('hex')));
  t.equal(nonces.size, 50);
});

t.test('an empty string can be sealed', async (t) => {
  t.equal(box.decrypt(box.encrypt('', ctx), ctx), '');
});

for (const part of ['nonce', 'ct', 'tag'] as const) {
  t.test(`a modified ${part} is refused as tampered`, async (t) => {
    const sealed = box.encrypt('secret value', ctx);
    t.throws(() => box.decrypt(tampered(sealed, part), ctx), { code: 'FORBIDDEN', reason: 'tampered' });
  });
}

t.test('a value moved to another tenant or record does not decrypt', async (t) => {
  const sealed = box.encrypt('secret value', ctx);
  t.throws(() => box.decrypt(sealed, { tenant: 'globex', recordId: 'cred-1' }), { code: 'FORBIDDEN', reason: 'tampered' });
  t.throws(() => box.decrypt(sealed, { tenant: 'acme', recordId: 'cred-2' }), { code: 'FORBIDDEN', reason: 'tampered' });
  // Boundary shift between the two fields must not collide.
  const shifted = box.encrypt('x', { tenant: 'ab', recordId: 'c' });
  t.throws(() => box.decrypt(shifted, { tenant: 'a', recordId: 'bc' }), SecretsError);
});

t.test('a malformed sealed value is refused', async (t) => {
  for (const bad of ['', 'v1:abc', 'plaintext', 'v0:AAAAAAAAAAAAAAAA::AAAAAAAAAAAAAAAAAAAAAA', 'v1:AAAA:AAAA:AAAA']) {
    t.throws(() => box.decrypt(bad, ctx), { code: 'FORBIDDEN', reason: 'malformed' }, bad);
  }
});

t.test('old values decrypt after rotation and reencrypt moves them to the current key', async (t) => {
  const old = box.encrypt('rotate me', ctx);
  const rotated = new SecretBox(createKeyring(2, [[1, k1], [2, k2]]));
  t.equal(rotated.decrypt(old, ctx), 'rotate me');
  t.ok(rotated.needsRotation(old));
  const fresh = rotated.reencrypt(old, ctx);
  t.match(fresh, /^v2:/);
  t.notOk(rotated.needsRotation(fresh));
  t.equal(new SecretBox(createKeyring(2, [[2, k2]])).decrypt(fresh, ctx), 'rotate me', 'needs only the new key');
});

t.test('a value sealed with an unknown key version is refused', async (t) => {
  const newer = new SecretBox(createKeyring(2, [[2, k2]])).encrypt('x', ctx);
  t.throws(() => box.decrypt(newer, ctx), { code: 'INTERNAL', reason: 'unknown_key_version' });
});

t.test('swapping the version header to another key is refused', async (t) => {
  const both = new SecretBox(createKeyring(2, [[1, k1], [2, k2]]));
  const sealed = both.encrypt('x', ctx);
  t.throws(() => both.decrypt(sealed.replace(/^v2:/, 'v1:'), ctx), { code: 'FORBIDDEN', reason: 'tampered' });
});

t.test('keyrings refuse bad keys', async (t) => {
  t.throws(() => createKeyring(1, [[1, randomBytes(16)]]), { code: 'INVALID_REQUEST', reason: 'bad_key' });
  t.throws(() => createKeyring(2, [[1, k1]]), { code: 'INVALID_REQUEST', reason: 'bad_key' });
  t.throws(() => createKeyring(1, [[1, k1], [1, k2]]), { code: 'INVALID_REQUEST', reason: 'bad_key' });
});

t.test('parseKey accepts hex, base64 and base64url and nothing else', async (t) => {
  t.same(parseKey(k1.toString('hex')), k1);
  t.same(parseKey(k1.toString('base64')), k1);
  t.same(parseKey(k1.toString('base64url')), k1);
  for (const bad of ['', 'short', randomBytes(31).toString('hex'), randomBytes(33).toString('base64')]) {
    t.throws(() => parseKey(bad), { code: 'INVALID_REQUEST', reason: 'bad_key' });
  }
});

t.test('loadKeyring takes the key and its older versions from the environment', async (t) => {
  const env = {
    TROUPE_ENCRYPTION_KEY: k2.toString('base64'),
    TROUPE_ENCRYPTION_KEY_VERSION: '2',
    TROUPE_ENCRYPTION_KEYS_OLD: `1:${k1.toString('hex')}`,
  };
  const loaded = await loadKeyring({ env, dataDir: '/nonexistent-never-touched' });
  t.equal(loaded.source, 'env');
  t.same(loaded.warnings, []);
  t.equal(loaded.keyring.current, 2);
  t.equal(new SecretBox(loaded.keyring).decrypt(box.encrypt('old', ctx), ctx), 'old');
});

t.test('loadKeyring refuses a bad environment key', async (t) => {
  await t.rejects(loadKeyring({ env: { TROUPE_ENCRYPTION_KEY: 'nope' }, dataDir: '/x' }), { code: 'INVALID_REQUEST', reason: 'bad_key' });
  await t.rejects(loadKeyring({ env: { TROUPE_ENCRYPTION_KEY: k1.toString('hex'), TROUPE_ENCRYPTION_KEYS_OLD: 'garbage' }, dataDir: '/x' }), { code: 'INVALID_REQUEST' });
});

t.test('without an environment key a key file is generated once with mode 0600 and a warning', async (t) => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'troupe-keys-')), 'data');
  const first = await loadKeyring({ env: {}, dataDir });
  t.equal(first.source, 'generated');
  t.equal(first.warnings.length, 1);
  t.match(first.warnings[0], 'encryption.key');
  const file = join(dataDir, 'encryption.key');
  t.equal(statSync(file).mode & 0o777, 0o600);
  t.notMatch(first.warnings[0], readFileSync(file, 'utf8').split(':')[1].trim(), 'the warning does not print the key');

  const second = await loadKeyring({ env: {}, dataDir });
  t.equal(second.source, 'file');
  t.same(second.warnings, []);
  const sealed = new SecretBox(first.keyring).encrypt('persisted', ctx);
  t.equal(new SecretBox(second.keyring).decrypt(sealed, ctx), 'persisted');
});

t.test('a key file readable by others is tightened with a warning', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'troupe-keys-'));
  const file = join(dataDir, 'encryption.key');
  writeFileSync(file, `1:${k1.toString('base64')}\n3:${k2.toString('hex')}\n`);
  chmodSync(file, 0o644);
  const loaded = await loadKeyring({ env: {}, dataDir });
  t.equal(loaded.keyring.current, 3, 'the highest version is current');
  t.equal(loaded.warnings.length, 1);
  t.equal(statSync(file).mode & 0o777, 0o600);
});
