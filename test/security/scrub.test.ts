import t from 'tap';
import { REDACTED, isSensitiveKey, scrub, scrubObject } from '../../security/scrub.js';
import { generateApiKey } from '../../security/api_keys.js';
import { signToken } from '../../security/jwt.js';

const SECRETS: Record<string, string> = {
  openai: 'sk-proj-abcdefghijklmnopqrstuvwxyz012345',
  openai_legacy: 'sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH',
  anthropic: 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz-0123456789',
  google: 'AIzaSyA1234567890abcdefghijklmnopqrstuv',
  aws: 'AKIAIOSFODNN7EXAMPLE',
  github: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
  slack: 'xoxb-123456789012-abcdefghijkl',
  telegram: '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw',
};

t.test('known key shapes are redacted anywhere in text', async (t) => {
  for (const [name, secret] of Object.entries(SECRETS)) {
    const out = scrub(`calling with ${secret} now`);
    t.notMatch(out, secret, name);
    t.match(out, REDACTED, name);
    t.match(out, /^calling with .* now$/, `${name}: surrounding text kept`);
  }
});

t.test('troupe API keys and JWTs are redacted', async (t) => {
  const key = generateApiKey().key;
  const jwt = await signToken({ secret: 'z'.repeat(32), tenant: 'acme', user: 'alice', ttlSec: 60 });
  const out = scrub(`key=${key} jwt ${jwt}`);
  t.notMatch(out, key.slice(4));
  t.notMatch(out, jwt.split('.')[1]);
  t.notMatch(out, jwt.split('.')[2]);
});

t.test('bearer tokens keep the scheme and lose the token', async (t) => {
  t.equal(scrub('Authorization: Bearer abc.def-ghi_jkl'), `Authorization: Bearer ${REDACTED}`);
  t.equal(scrub('authorization: rawtoken123'), `authorization: ${REDACTED}`);
  t.equal(scrub('Authorization: Basic dXNlcjpwYXNzd29yZA=='), `Authorization: Basic ${REDACTED}`);
  t.equal(scrub('sent Bearer abcdefghijkl'), `sent Bearer ${REDACTED}`);
});

t.test('sensitive query and form fields are redacted, others kept', async (t) => {
  t.equal(
    scrub('GET /cb?code=1&password=hunter2&token=abc123&page=2'),
    `GET /cb?code=1&password=${REDACTED}&token=${REDACTED}&page=2`,
  );
  t.equal(scrub('export OPENAI_API_KEY=abc123 DEBUG=1'), `export OPENAI_API_KEY=${REDACTED} DEBUG=1`);
});

t.test('sensitive JSON fields are redacted inside serialised JSON', async (t) => {
  const json = JSON.stringify({ user: 'alice', password: 'p@ss "quoted" word', client_secret: 's3', max_tokens: 100 });
  const out = scrub(json);
  t.same(JSON.parse(out), { user: 'alice', password: REDACTED, client_secret: REDACTED, max_tokens: 100 });
});

t.test('PEM private keys are redacted whole, even unterminated', async (t) => {
  const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1234\nabcd\n-----END RSA PRIVATE KEY-----';
  const out = scrub(`before\n${pem}\nafter`);
  t.equal(out, 'before\n[REDACTED PRIVATE KEY]\nafter');
  t.notMatch(scrub('-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq'), 'MIIE');
});

t.test('a password inside a URL is redacted', async (t) => {
  t.equal(scrub('postgres://app:s3cret@db.example:5432/x'), `postgres://app:${REDACTED}@db.example:5432/x`);
});

t.test('ordinary text is left alone', async (t) => {
  for (const text of ['hello world', 'tokens used: 1200', 'max_tokens=512', 'https://example.com/a?b=c', 'the secret garden is a book', 'sk-short', 'basic understanding of the token expiration', 'Token usage: 1200']) {
    t.equal(scrub(text), text);
  }
});

t.test('isSensitiveKey recognises secret names in any case style', async (t) => {
  for (const k of ['password', 'apiKey', 'api_key', 'X-Api-Key', 'accessToken', 'AWS_SECRET_ACCESS_KEY', 'client_secret', 'Authorization', 'privateKey', 'cookie']) {
    t.ok(isSensitiveKey(k), k);
  }
  for (const k of ['max_tokens', 'token_count', 'username', 'keyboard', 'monkey', 'promptTokens', 'id']) {
    t.notOk(isSensitiveKey(k), k);
  }
});

t.test('scrubObject redacts sensitive keys and scrubs strings deeply', async (t) => {
  const input = {
    user: 'alice',
    headers: { Authorization: 'Bearer xyz', 'content-type': 'json' },
    nested: [{ apiKey: 'k1', note: `uses ${SECRETS.openai}` }],
    credentials: { user: 'u', pass: 'p' },
    usage: { max_tokens: 10 },
  };
  t.same(scrubObject(input), {
    user: 'alice',
    headers: { Authorization: REDACTED, 'content-type': 'json' },
    nested: [{ apiKey: REDACTED, note: `uses ${REDACTED}` }],
    credentials: REDACTED,
    usage: { max_tokens: 10 },
  });
  t.equal(input.headers.Authorization, 'Bearer xyz', 'the input is not modified');
});

t.test('scrubObject bounds depth and breadth and survives cycles', async (t) => {
  const cyclic: Record<string, unknown> = { name: 'a' };
  cyclic.self = cyclic;
  t.same(scrubObject(cyclic), { name: 'a', self: '[Circular]' });
  t.same(scrubObject({ a: { b: { c: { d: 1 } } } }, { maxDepth: 2 }), { a: { b: '[Truncated]' } });
  t.same(scrubObject([1, 2, 3, 4], { maxEntries: 2 }), [1, 2, '[2 more]']);
});

t.test('scrubObject turns errors, dates and buffers into safe values', async (t) => {
  const err = Object.assign(new Error(`failed with ${SECRETS.anthropic}`), { code: 'UPSTREAM' });
  t.same(scrubObject({ err, at: new Date(0), raw: Buffer.from('abc') }), {
    err: { name: 'Error', message: `failed with ${REDACTED}`, code: 'UPSTREAM' },
    at: '1970-01-01T00:00:00.000Z',
    raw: '[3 bytes]',
  });
});

t.test('a value the token pass already redacted is not redacted twice (no stray "]")', async (t) => {
  t.equal(scrub('api_key=sk-proj-abcdefghijklmnopqrstuvwxyz rest'), 'api_key=[REDACTED] rest');
  t.equal(scrub('secret: eyJhbGciOi.eyJzdWIiOiIx.sig123 tail'), 'secret: [REDACTED] tail');
  t.equal(scrub('password=[REDACTED]'), 'password=[REDACTED]');
  t.equal(scrub(scrub('token=trp_abcdefghijklmnop&x=1')), 'token=[REDACTED]&x=1', 'scrubbing twice changes nothing more');
});
