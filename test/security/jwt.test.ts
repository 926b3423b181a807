import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, base64url } from 'jose';
import type { JWTPayload, CryptoKey } from 'jose';
import { createJwtAuthenticator, parseTtl, signToken } from '../../security/jwt.js';
import { AuthError } from '../../security/errors.js';
import { rejectionOf } from './helpers.js';

const SECRET = 'an-hmac-secret-that-is-at-least-32-bytes-long';
const NOW_MS = Date.UTC(2026, 0, 1, 12, 0, 0);
const NOW = NOW_MS / 1000;

interface MintOptions {
  alg?: string;
  kid?: string;
  exp?: number | null;
  nbf?: number;
  iss?: string;
  aud?: string;
}

async function mint(key: Uint8Array | CryptoKey, claims: JWTPayload, o: MintOptions = {}): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: o.alg ?? 'HS256', ...(o.kid ? { kid: o.kid } : {}) });
  jwt.setIssuedAt(NOW - 60);
  if (o.exp !== null) jwt.setExpirationTime(o.exp ?? NOW + 3600);
  if (o.nbf !== undefined) jwt.setNotBefore(o.nbf);
  if (o.iss !== undefined) jwt.setIssuer(o.iss);
  if (o.aud !== undefined) jwt.setAudience(o.aud);
  return jwt.sign(key);
}

const hmacKey = new TextEncoder().encode(SECRET);
const base = { tenant: 'acme', sub: 'alice', scope: 'chat:send sessions:read' };
const hsAuth = createJwtAuthenticator({ secret: SECRET, now: () => NOW_MS });

function rejection(p: Promise<unknown>): Promise<AuthError> {
  return rejectionOf(p, AuthError);
}

t.test('a valid HS256 token yields the principal from its claims', async (t) => {
  const p = await hsAuth.authenticate(await mint(hmacKey, base));
  t.same(p, { tenant: 'acme', user: 'alice', scopes: ['chat:send', 'sessions:read'], via: 'jwt', expiresAt: (NOW + 3600) * 1000 });
});

t.test('tenant falls back to tid and scopes may be an array', async (t) => {
  const p = await hsAuth.authenticate(await mint(hmacKey, { tid: 'globex', sub: 'bob', scopes: ['a', 'b'] }));
  t.equal(p.tenant, 'globex');
  t.same(p.scopes, ['a', 'b']);
});

t.test('an expired token is rejected as expired', async (t) => {
  const err = await rejection(hsAuth.authenticate(await mint(hmacKey, base, { exp: NOW - 31 })));
  t.equal(err.code, 'UNAUTHORIZED');
  t.equal(err.reason, 'expired');
});

t.test('a token expired by less than the clock tolerance is accepted', async (t) => {
  const p = await hsAuth.authenticate(await mint(hmacKey, base, { exp: NOW - 20 }));
  t.equal(p.user, 'alice');
});

t.test('a token whose nbf is beyond the tolerance is not yet valid', async (t) => {
  const err = await rejection(hsAuth.authenticate(await mint(hmacKey, base, { nbf: NOW + 31 })));
  t.equal(err.reason, 'not_yet_valid');
});

t.test('a token whose nbf is within the tolerance is accepted', async (t) => {
  const p = await hsAuth.authenticate(await mint(hmacKey, base, { nbf: NOW + 20 }));
  t.equal(p.tenant, 'acme');
});

t.test('clockToleranceSec narrows the skew window', async (t) => {
  const strict = createJwtAuthenticator({ secret: SECRET, clockToleranceSec: 5, now: () => NOW_MS });
  const err = await rejection(strict.authenticate(await mint(hmacKey, base, { exp: NOW - 20 })));
  t.equal(err.reason, 'expired');
});

t.test('a token signed with another secret has a bad signature', async (t) => {
  const other = new TextEncoder().encode('another-secret-that-is-also-32-bytes-or-more');
  const err = await rejection(hsAuth.authenticate(await mint(other, base)));
  t.equal(err.reason, 'bad_signature');
});

t.test('issuer and audience are enforced when configured', async (t) => {
  const auth = createJwtAuthenticator({ secret: SECRET, issuer: 'troupe', audience: 'gateway', now: () => NOW_MS });
  t.equal((await auth.authenticate(await mint(hmacKey, base, { iss: 'troupe', aud: 'gateway' }))).user, 'alice');
  t.equal((await rejection(auth.authenticate(await mint(hmacKey, base, { iss: 'evil', aud: 'gateway' })))).reason, 'bad_issuer');
  t.equal((await rejection(auth.authenticate(await mint(hmacKey, base, { iss: 'troupe', aud: 'other' })))).reason, 'bad_audience');
});

t.test('alg none is rejected', async (t) => {
  const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
  const payload = base64url.encode(JSON.stringify({ ...base, exp: NOW + 3600 }));
  const err = await rejection(hsAuth.authenticate(`${header}.${payload}.`));
  t.equal(err.reason, 'alg_not_allowed');
});

t.test('an RS256 token is rejected when an HMAC secret is configured', async (t) => {
  const { privateKey } = await generateKeyPair('RS256');
  const err = await rejection(hsAuth.authenticate(await mint(privateKey, base, { alg: 'RS256' })));
  t.equal(err.reason, 'alg_not_allowed');
});

t.test('missing tenant, sub or exp is a missing claim', async (t) => {
  t.equal((await rejection(hsAuth.authenticate(await mint(hmacKey, { sub: 'alice' })))).reason, 'missing_claim');
  t.equal((await rejection(hsAuth.authenticate(await mint(hmacKey, { tenant: 'acme' })))).reason, 'missing_claim');
  t.equal((await rejection(hsAuth.authenticate(await mint(hmacKey, base, { exp: null })))).reason, 'missing_claim');
});

t.test('garbage and oversized tokens are malformed', async (t) => {
  t.equal((await rejection(hsAuth.authenticate('not-a-jwt'))).reason, 'malformed');
  t.equal((await rejection(hsAuth.authenticate(''))).reason, 'malformed');
  t.equal((await rejection(hsAuth.authenticate('a'.repeat(10_000)))).reason, 'malformed');
});

t.test('non-string scopes are malformed', async (t) => {
  const err = await rejection(hsAuth.authenticate(await mint(hmacKey, { tenant: 'a', sub: 'b', scopes: [1, 2] })));
  t.equal(err.reason, 'malformed');
});

t.test('errors never echo the token', async (t) => {
  const token = await mint(hmacKey, base, { exp: NOW - 3600 });
  const err = await rejection(hsAuth.authenticate(token));
  t.notMatch(err.message, token.split('.')[2]);
  t.notMatch(err.message, token.split('.')[1]);
});

t.test('a secret shorter than 32 bytes is refused at configuration', async (t) => {
  t.throws(() => createJwtAuthenticator({ secret: 'short' }), { code: 'INVALID_REQUEST', reason: 'weak_secret' });
  t.throws(() => createJwtAuthenticator({}), { code: 'INVALID_REQUEST', reason: 'bad_config' });
  t.throws(() => createJwtAuthenticator({ secret: SECRET, jwks: '/x' }), { code: 'INVALID_REQUEST', reason: 'bad_config' });
});

t.test('JWKS from a file verifies RS256 and refuses HMAC algorithm confusion', async (t) => {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const dir = mkdtempSync(join(tmpdir(), 'troupe-jwks-'));
  const file = join(dir, 'jwks.json');
  writeFileSync(file, JSON.stringify({ keys: [jwk] }));
  const auth = createJwtAuthenticator({ jwks: file, now: () => NOW_MS });

  t.equal((await auth.authenticate(await mint(privateKey, base, { alg: 'RS256', kid: 'k1' }))).user, 'alice');

  // The classic confusion attack: the RSA public key (which is public) used as the HMAC secret.
  const pem = new TextEncoder().encode(await exportSPKI(publicKey));
  const forged = await mint(pem, base, { alg: 'HS256', kid: 'k1' });
  t.equal((await rejection(auth.authenticate(forged))).reason, 'alg_not_allowed');

  const { privateKey: otherKey } = await generateKeyPair('RS256');
  t.equal((await rejection(auth.authenticate(await mint(otherKey, base, { alg: 'RS256', kid: 'k1' })))).reason, 'bad_signature');
  t.equal((await rejection(auth.authenticate(await mint(privateKey, base, { alg: 'RS256', kid: 'nope' })))).reason, 'unknown_key');
});

t.test('an unreadable JWKS file is a configuration error', async (t) => {
  t.throws(() => createJwtAuthenticator({ jwks: '/nonexistent/jwks.json' }), { code: 'INVALID_REQUEST', reason: 'bad_jwks' });
});

t.test('JWKS from an http URL verifies ES256 tokens', async (t) => {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'ec1', alg: 'ES256' };
  let fetches = 0;
  const server = createServer((_req, res) => {
    fetches++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const auth = createJwtAuthenticator({ jwks: `http://127.0.0.1:${port}/jwks.json`, now: () => NOW_MS });

  t.same(await auth.authenticate(await mint(privateKey, base, { alg: 'ES256', kid: 'ec1' })), {
    tenant: 'acme', user: 'alice', scopes: ['chat:send', 'sessions:read'], via: 'jwt', expiresAt: (NOW + 3600) * 1000,
  });
  t.equal((await rejection(auth.authenticate(await mint(hmacKey, base)))).reason, 'alg_not_allowed');
  t.ok(fetches >= 1, 'the key set was fetched from the server');
});

t.test('an unreachable JWKS URL is UNAVAILABLE, not UNAUTHORIZED', async (t) => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const { privateKey } = await generateKeyPair('ES256');
  const auth = createJwtAuthenticator({ jwks: `http://127.0.0.1:${port}/jwks.json`, now: () => NOW_MS });
  await t.rejects(auth.authenticate(await mint(privateKey, base, { alg: 'ES256', kid: 'x' })), { code: 'UNAVAILABLE', reason: 'jwks_unavailable' });
});

t.test('signToken issues a token the authenticator accepts', async (t) => {
  const token = await signToken({ secret: SECRET, tenant: 'acme', user: 'dev', scopes: ['admin'], ttlSec: 60, issuer: 'troupe', audience: 'gw', now: NOW_MS });
  const auth = createJwtAuthenticator({ secret: SECRET, issuer: 'troupe', audience: 'gw', now: () => NOW_MS });
  t.same(await auth.authenticate(token), { tenant: 'acme', user: 'dev', scopes: ['admin'], via: 'jwt', expiresAt: (NOW + 60) * 1000 });
  const later = createJwtAuthenticator({ secret: SECRET, now: () => NOW_MS + 120_000 });
  t.equal((await rejection(later.authenticate(token))).reason, 'expired');
});

t.test('parseTtl converts units to seconds', async (t) => {
  t.equal(parseTtl('15s'), 15);
  t.equal(parseTtl('30m'), 1800);
  t.equal(parseTtl('1h'), 3600);
  t.equal(parseTtl('2d'), 172800);
  t.equal(parseTtl('90'), 90);
});

t.test('parseTtl rejects bad input', async (t) => {
  for (const bad of ['', 'h', '1w', '-1h', '0s', '1.5h', '400d']) {
    t.throws(() => parseTtl(bad), { code: 'INVALID_REQUEST', reason: 'bad_ttl' }, bad);
  }
});

t.test('a repeated token is answered from the verified-token cache until it expires', async (t) => {
  let clock = NOW_MS;
  const auth = createJwtAuthenticator({ secret: SECRET, now: () => clock });
  const token = await mint(hmacKey, base, { exp: NOW + 60 });
  const first = await auth.authenticate(token);
  first.scopes.push('admin');
  clock = NOW_MS + 89_000;
  t.same((await auth.authenticate(token)).scopes, ['chat:send', 'sessions:read'], 'the cached principal is not the one handed out');
  clock = NOW_MS + 90_000;
  const err = await rejection(auth.authenticate(token));
  t.equal(err.reason, 'expired', 'exp plus the clock tolerance ends it, cached or not');
});

t.test('a token that failed verification is refused again, not remembered', async (t) => {
  const auth = createJwtAuthenticator({ secret: SECRET, now: () => NOW_MS });
  const forged = await mint(new TextEncoder().encode('another-secret-that-is-at-least-32-bytes'), base);
  t.equal((await rejection(auth.authenticate(forged))).reason, 'bad_signature');
  t.equal((await rejection(auth.authenticate(forged))).reason, 'bad_signature');
});

t.test('HS384 and HS512 tokens verify with the same secret (a key imported per algorithm)', async (t) => {
  const auth = createJwtAuthenticator({ secret: SECRET, now: () => NOW_MS, cacheSize: 0 });
  for (const alg of ['HS256', 'HS384', 'HS512']) t.equal((await auth.authenticate(await mint(hmacKey, base, { alg }))).user, 'alice', alg);
});
