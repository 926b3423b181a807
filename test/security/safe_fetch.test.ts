import t from 'tap';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { safeFetch } from '../../security/safe_fetch.js';
import type { ResolvedAddress, Resolver } from '../../security/safe_fetch.js';
import { SsrfError } from '../../security/errors.js';
import { rejectionOf } from './helpers.js';

interface Seen {
  path: string;
  host: string | undefined;
  method: string | undefined;
  authorization: string | undefined;
}

const seen: Seen[] = [];

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  seen.push({ path: url.pathname, host: req.headers.host, method: req.method, authorization: req.headers.authorization });
  switch (url.pathname) {
    case '/ok':
      res.end('hello');
      return;
    case '/host':
      res.end(req.headers.host);
      return;
    case '/redirect':
      res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: url.searchParams.get('to') ?? '/ok' });
      res.end();
      return;
    case '/loop':
      res.writeHead(302, { location: '/loop' });
      res.end();
      return;
    case '/big': {
      // Streamed without content-length, so only counting can catch it.
      const chunk = Buffer.alloc(16 * 1024, 'a');
      let sent = 0;
      const pump = (): void => {
        while (sent < 64) {
          sent++;
          if (!res.write(chunk)) break;
        }
        if (sent >= 64) res.end();
        else res.once('drain', pump);
      };
      pump();
      return;
    }
    case '/declared-big':
      res.writeHead(200, { 'content-length': String(50 * 1024 * 1024) });
      res.write('partial');
      return;
    case '/slow':
      return; // never answers; closed at teardown
    default:
      res.writeHead(404);
      res.end();
  }
}

const server = createServer(handle);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as AddressInfo).port;
const origin = `http://127.0.0.1:${port}`;
t.teardown(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

function countingResolver(answers: ResolvedAddress[][]): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver = async (hostname: string): Promise<ResolvedAddress[]> => {
    calls.push(hostname);
    return answers[Math.min(calls.length - 1, answers.length - 1)];
  };
  return Object.assign(resolver, { calls });
}

function failure(p: Promise<unknown>): Promise<SsrfError> {
  return rejectionOf(p, SsrfError);
}

const LOCAL = { allowHosts: ['127.0.0.1'] };

t.test('blocked URL forms are refused before any DNS or connection', async (t) => {
  const urls: ReadonlyArray<readonly [string, string]> = [
    [`http://127.0.0.1:${port}/ok`, 'loopback'],
    ['http://2130706433/', 'loopback'],
    ['http://0x7f000001/', 'loopback'],
    ['http://0177.0.0.1/', 'loopback'],
    ['http://127.1/', 'loopback'],
    ['http://127.0.1/', 'loopback'],
    ['http://localhost/', 'loopback'],
    ['http://[::1]/', 'loopback'],
    ['http://[::]/', 'unspecified'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[::ffff:7f00:1]/', 'loopback'],
    ['http://[::127.0.0.1]/', 'loopback'],
    ['http://[64:ff9b::10.0.0.1]/', 'private'],
    ['http://[2002:c0a8:101::]/', 'private'],
    ['http://[fc00::1]/', 'private'],
    ['http://[fe80::1]/', 'link_local'],
    ['http://[ff02::1]/', 'multicast'],
    ['http://10.0.0.1/', 'private'],
    ['http://192.168.0.1/', 'private'],
    ['http://172.16.5.4/', 'private'],
    ['http://169.254.169.254/latest/meta-data/', 'metadata'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'metadata'],
    ['http://100.64.0.1/', 'cgnat'],
    ['http://224.0.0.1/', 'multicast'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://255.255.255.255/', 'broadcast'],
    ['http://198.18.0.1/', 'benchmark'],
    ['http://192.0.2.1/', 'documentation'],
    ['http://user@127.0.0.1/', 'loopback'],
  ];
  const resolver = countingResolver([[{ address: '8.8.8.8', family: 4 }]]);
  const before = seen.length;
  for (const [url, reason] of urls) {
    const err = await failure(safeFetch(url, { resolver }));
    t.equal(err.code, 'FORBIDDEN', url);
    t.equal(err.reason, reason, `${url}: ${reason}`);
  }
  t.same(resolver.calls, [], 'no DNS lookups');
  t.equal(seen.length, before, 'the local server saw nothing');
});

t.test('non-http schemes are refused', async (t) => {
  for (const url of ['file:///etc/passwd', 'ftp://example.com/', 'gopher://127.0.0.1:70/', 'data:text/plain,hi']) {
    t.equal((await failure(safeFetch(url))).reason, 'scheme', url);
  }
});

t.test('a malformed URL is an invalid request', async (t) => {
  const err = await failure(safeFetch('not a url'));
  t.equal(err.code, 'INVALID_REQUEST');
});

t.test('the allowlist is off by default: the local test server is unreachable', async (t) => {
  const before = seen.length;
  const err = await failure(safeFetch(`${origin}/ok`));
  t.equal(err.code, 'FORBIDDEN');
  t.equal(err.reason, 'loopback');
  t.equal(seen.length, before);
});

t.test('the allowlist lets a test reach its local server', async (t) => {
  const res = await safeFetch(`${origin}/ok`, LOCAL);
  t.equal(res.status, 200);
  t.equal(res.body, 'hello');
  t.equal(res.finalUrl, `${origin}/ok`);
});

t.test('a buffer body is returned when asked for', async (t) => {
  const res = await safeFetch(`${origin}/ok`, { ...LOCAL, responseType: 'buffer' });
  t.ok(Buffer.isBuffer(res.body));
  t.equal(res.body.toString(), 'hello');
});

t.test('allowPrivate opens internal ranges but never metadata', async (t) => {
  t.equal((await safeFetch(`${origin}/ok`, { allowPrivate: true })).body, 'hello');
  t.equal((await failure(safeFetch('http://169.254.169.254/', { allowPrivate: true }))).reason, 'metadata');
});

t.test('a DNS answer with a private address is refused', async (t) => {
  const resolver = countingResolver([[{ address: '10.0.0.5', family: 4 }]]);
  const err = await failure(safeFetch('http://internal.example/', { resolver }));
  t.equal(err.code, 'FORBIDDEN');
  t.equal(err.reason, 'private');
  t.same(resolver.calls, ['internal.example']);
});

t.test('one bad address among good ones refuses the name', async (t) => {
  const resolver = countingResolver([[{ address: '93.184.216.34', family: 4 }, { address: '::1', family: 6 }]]);
  t.equal((await failure(safeFetch('http://mixed.example/', { resolver }))).reason, 'loopback');
});

t.test('a refused connection is UNAVAILABLE', async (t) => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const err = await failure(safeFetch(`http://127.0.0.1:${closedPort}/`, LOCAL));
  t.equal(err.code, 'UNAVAILABLE');
  t.equal(err.reason, 'network_error');
});

t.test('a name resolving to too many addresses is refused', async (t) => {
  const many = Array.from({ length: 40 }, (_, i) => ({ address: `93.184.216.${i}`, family: 4 as const }));
  const err = await failure(safeFetch('http://many.example/', { resolver: countingResolver([many]) }));
  t.equal(err.reason, 'too_many_addresses');
});

t.test('a hostname entry in allowHosts permits that name whatever it resolves to', async (t) => {
  const resolver = countingResolver([[{ address: '127.0.0.1', family: 4 }]]);
  const res = await safeFetch(`http://fake-upstream.test:${port}/host`, { allowHosts: ['fake-upstream.test'], resolver });
  t.equal(res.body, `fake-upstream.test:${port}`);
  const other = await failure(safeFetch(`http://other-name.test:${port}/host`, { allowHosts: ['fake-upstream.test'], resolver }));
  t.equal(other.reason, 'loopback', 'other names stay blocked');
});

t.test('failed DNS is UNAVAILABLE', async (t) => {
  const resolver: Resolver = async () => {
    throw new Error('ENOTFOUND');
  };
  const err = await failure(safeFetch('http://nowhere.example/', { resolver }));
  t.equal(err.code, 'UNAVAILABLE');
  t.equal(err.reason, 'dns_failed');
});

t.test('the connection goes to the checked address: DNS is not asked again', async (t) => {
  // A rebinding resolver: the first answer is acceptable, later ones point elsewhere.
  const resolver = countingResolver([[{ address: '127.0.0.1', family: 4 }], [{ address: '10.9.9.9', family: 4 }]]);
  const res = await safeFetch(`http://rebind.test:${port}/host`, { ...LOCAL, resolver });
  t.equal(res.status, 200);
  t.equal(res.body, `rebind.test:${port}`, 'the Host header keeps the original name');
  t.same(resolver.calls, ['rebind.test'], 'resolved exactly once');
});

t.test('each redirect hop is resolved and checked again', async (t) => {
  const resolver = countingResolver([[{ address: '127.0.0.1', family: 4 }], [{ address: '10.9.9.9', family: 4 }]]);
  const err = await failure(safeFetch(`http://rebind.test:${port}/redirect?to=/ok`, { ...LOCAL, resolver }));
  t.equal(err.reason, 'private');
  t.equal(resolver.calls.length, 2);
});

t.test('a redirect from an allowed server to a blocked address is refused', async (t) => {
  for (const [target, reason] of [
    ['http://169.254.169.254/latest/meta-data/', 'metadata'],
    [`http://localhost:${port}/ok`, 'loopback'],
    [`http://[::1]:${port}/ok`, 'loopback'],
    ['http://0x0a000001/', 'private'],
  ]) {
    const before = seen.filter((s) => s.path === '/ok').length;
    const err = await failure(safeFetch(`${origin}/redirect?to=${encodeURIComponent(target)}`, LOCAL));
    t.equal(err.code, 'FORBIDDEN', target);
    t.equal(err.reason, reason, target);
    t.equal(seen.filter((s) => s.path === '/ok').length, before, 'the target was not reached');
  }
});

t.test('allowed redirects are followed and report the final URL', async (t) => {
  const res = await safeFetch(`${origin}/redirect?to=/host`, LOCAL);
  t.equal(res.body, `127.0.0.1:${port}`);
  t.equal(res.finalUrl, `${origin}/host`);
});

t.test('redirects beyond maxRedirects are refused', async (t) => {
  const before = seen.filter((s) => s.path === '/loop').length;
  const err = await failure(safeFetch(`${origin}/loop`, { ...LOCAL, maxRedirects: 3 }));
  t.equal(err.reason, 'too_many_redirects');
  t.equal(seen.filter((s) => s.path === '/loop').length - before, 4);
});

t.test('a 303 turns POST into GET', async (t) => {
  await safeFetch(`${origin}/redirect?status=303&to=/ok`, { ...LOCAL, method: 'POST', body: 'x=1' });
  t.equal(seen[seen.length - 1].method, 'GET');
});

t.test('credentials are not forwarded to another origin', async (t) => {
  const resolver = countingResolver([[{ address: '127.0.0.1', family: 4 }]]);
  const to = `http://other.test:${port}/ok`;
  await safeFetch(`${origin}/redirect?to=${encodeURIComponent(to)}`, {
    allowHosts: ['127.0.0.1'], resolver, headers: { Authorization: 'Bearer abc' },
  });
  const last = seen[seen.length - 1];
  t.equal(last.host, `other.test:${port}`);
  t.equal(last.authorization, undefined);
  t.equal(seen[seen.length - 2].authorization, 'Bearer abc', 'the first origin got it');
});

t.test('a streamed body over maxBytes is cut off', async (t) => {
  const err = await failure(safeFetch(`${origin}/big`, { ...LOCAL, maxBytes: 100_000 }));
  t.equal(err.code, 'PAYLOAD_TOO_LARGE');
});

t.test('a body within maxBytes is read whole', async (t) => {
  const res = await safeFetch(`${origin}/big`, { ...LOCAL, maxBytes: 2_000_000 });
  t.equal(res.body.length, 64 * 16 * 1024);
});

t.test('a declared content-length over maxBytes is refused at the headers', async (t) => {
  const err = await failure(safeFetch(`${origin}/declared-big`, { ...LOCAL, maxBytes: 1000 }));
  t.equal(err.code, 'PAYLOAD_TOO_LARGE');
});

t.test('a response slower than timeoutMs fails with TIMEOUT', async (t) => {
  const err = await failure(safeFetch(`${origin}/slow`, { ...LOCAL, timeoutMs: 150 }));
  t.equal(err.code, 'TIMEOUT');
});

t.test('a slow DNS answer counts against the timeout', async (t) => {
  const resolver: Resolver = () => new Promise(() => undefined);
  const err = await failure(safeFetch('http://slow-dns.example/', { resolver, timeoutMs: 100 }));
  t.equal(err.code, 'TIMEOUT');
});

t.test('the caller can abort with an AbortSignal', async (t) => {
  const controller = new AbortController();
  const reason = new Error('caller gave up');
  setTimeout(() => controller.abort(reason), 50);
  await t.rejects(safeFetch(`${origin}/slow`, { ...LOCAL, signal: controller.signal }), reason);
});

t.test('an already aborted signal fails at once', async (t) => {
  const reason = new Error('already');
  const before = seen.length;
  await t.rejects(safeFetch(`${origin}/ok`, { ...LOCAL, signal: AbortSignal.abort(reason) }), reason);
  t.equal(seen.length, before);
});

t.test('https keeps the hostname for SNI and certificate checks while connecting to the pinned address', async (t) => {
  // A self-signed certificate for "secure.test", made for this test only.
  const fixture = (name: string): Buffer => readFileSync(new URL(`../../../test/security/fixtures/${name}`, import.meta.url));
  const cert = fixture('secure.test.crt');
  const sni: Array<string | false | null> = [];
  const tlsServer = createTlsServer({ cert, key: fixture('secure.test.key') }, (req, res) => {
    sni.push((req.socket as TLSSocket).servername);
    res.end(`tls ${req.headers.host}`);
  });
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => tlsServer.close(() => resolve())));
  const tlsPort = (tlsServer.address() as AddressInfo).port;
  const resolver = countingResolver([[{ address: '127.0.0.1', family: 4 }]]);

  const res = await safeFetch(`https://secure.test:${tlsPort}/`, { ...LOCAL, resolver, ca: cert });
  t.equal(res.body, `tls secure.test:${tlsPort}`);
  t.same(sni, ['secure.test']);
  t.same(resolver.calls, ['secure.test']);

  const err = await failure(safeFetch(`https://secure.test:${tlsPort}/`, { ...LOCAL, resolver }));
  t.equal(err.code, 'UNAVAILABLE', 'an untrusted certificate is still refused');
  t.match(err.cause, { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
});
