// The access table is enforced at the edge for every WebSocket method and HTTP
// route: each is walked with a credential holding its scope and one without.
import t from 'tap';
import { SCOPE_NAMES, allows, type Scope } from '../../security/scopes.js';
import type { Principal } from '../../security/types.js';
import { ACCESS, type Refusal } from '../../transports/access.js';
import { fakeAuthenticator } from './fakes.js';
import { Client, errorOf, start } from './harness.js';

/** One token per scope (`tok-chat`, `tok-admin`, …) plus a legacy token with no scopes. */
const tokens: Record<string, Principal> = Object.fromEntries(SCOPE_NAMES.map((s) => [`tok-${s}`, { tenant: 'acme', user: `u-${s}`, scopes: [s], via: 'jwt' as const }]));
tokens['tok-legacy'] = { tenant: 'acme', user: 'legacy', scopes: [], via: 'jwt' };

/** A token whose scopes do not reach `needed`. */
function without(needed: Scope): string {
  const s = SCOPE_NAMES.find((x) => !allows([x], needed));
  if (s === undefined) throw new Error(`every scope allows ${needed}`);
  return `tok-${s}`;
}

async function callWs(url: string, token: string, method: string): Promise<Record<string, unknown>> {
  const c = await Client.connected(url, token);
  try {
    const res = await c.request(method, method === 'chat.history' ? { sessionKey: 'k' } : method === 'chat.abort' ? { runId: 'r' } : method === 'admin.fault' ? { kind: 'none' } : {});
    return res.ok === true ? {} : errorOf(res);
  } finally {
    c.close();
  }
}

async function callHttp(base: string, key: string, token: string | undefined): Promise<number> {
  const [verb, pattern] = key.split(' ');
  const path = pattern.replace(/:[a-z]+/g, 'x').replace('/*', '/nothing-here');
  const res = await fetch(base + path, {
    method: verb === 'ANY' ? 'GET' : verb,
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), 'content-type': 'application/json' },
    ...(verb === 'POST' || verb === 'PUT' ? { body: JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: 'hi' }] }) } : {}),
  });
  await res.arrayBuffer();
  return res.status;
}

t.test('every method and route the front door serves has an access rule, and none is stale', async (t) => {
  const s = await start(t);
  for (const key of s.fd.served) t.ok(Object.hasOwn(ACCESS, key), `${key} is in the access table`);
  const served = new Set(s.fd.served);
  for (const key of Object.keys(ACCESS)) {
    // the admin API and the console are served by the gateway (walked in test/gateway/admin_api, test/console); channels only when configured
    if (key.includes('/admin/v1') || key.includes('/channels/') || key.includes(' /console')) continue;
    t.ok(served.has(key), `${key} in the table is served`);
  }
});

t.test('each route and method: FORBIDDEN without its scope (audited), allowed with it', async (t) => {
  const refusals: Refusal[] = [];
  const s = await start(t, { authenticator: fakeAuthenticator(tokens), config: { metricsToken: 'a-static-metrics-token-1234' }, onRefused: (r) => refusals.push(r) });
  for (const key of s.fd.served) {
    const rule = ACCESS[key];
    if (rule === 'public') {
      if (key.startsWith('WS ') || key === 'GET /ws') continue;
      t.not(await callHttp(s.httpUrl, key, undefined), 401, `${key} is public`);
      continue;
    }
    if (rule === 'authenticated') {
      t.equal(await callHttp(s.httpUrl, key, undefined), 401, `${key} needs a credential`);
      t.not(await callHttp(s.httpUrl, key, 'tok-legacy'), 403, `${key} takes any credential`);
      continue;
    }
    const lacking = without(rule);
    const before = refusals.length;
    if (key.startsWith('WS ')) {
      const method = key.slice(3);
      t.match(await callWs(s.wsUrl, lacking, method), { code: 'FORBIDDEN', reason: 'missing_scope' }, `${key} without ${rule}`);
      t.not((await callWs(s.wsUrl, `tok-${rule}`, method)).reason, 'missing_scope', `${key} with ${rule}`);
    } else {
      t.equal(await callHttp(s.httpUrl, key, lacking), 403, `${key} without ${rule}`);
      t.not(await callHttp(s.httpUrl, key, `tok-${rule}`), 403, `${key} with ${rule}`);
    }
    t.equal(refusals.length, before + 1, `${key}: the refusal was reported`);
    t.match(refusals.at(-1), { what: key, needed: rule, principal: { user: tokens[lacking].user } });
  }
});

t.test('platform implies every scope; admin implies the tenant-level read scopes but not chat', async (t) => {
  for (const s of SCOPE_NAMES) t.ok(allows(['platform'], s), `platform allows ${s}`);
  t.ok(allows(['admin'], 'audit:read'));
  t.notOk(allows(['admin'], 'chat'));
  t.notOk(allows(['admin'], 'platform'));
  t.notOk(allows(['chat'], 'metrics'));
  t.notOk(allows(['no-such-scope'], 'chat'), 'an unknown scope allows nothing');
});

t.test('a token without any scope (troupe token, old API keys) chats and does nothing else', async (t) => {
  const s = await start(t, { authenticator: fakeAuthenticator(tokens), config: { metricsToken: 'a-static-metrics-token-1234' } });
  t.not((await callWs(s.wsUrl, 'tok-legacy', 'sessions.list')).code, 'FORBIDDEN');
  t.equal((await callWs(s.wsUrl, 'tok-legacy', 'admin.fault')).code, 'FORBIDDEN');
  t.equal(await callHttp(s.httpUrl, 'GET /v1/models', 'tok-legacy'), 200);
  t.equal(await callHttp(s.httpUrl, 'GET /metrics', 'tok-legacy'), 403);
});

t.test('/metrics: open without a metricsToken; with one, the token or the metrics scope', async (t) => {
  const open = await start(t, { authenticator: fakeAuthenticator(tokens) });
  t.equal(await callHttp(open.httpUrl, 'GET /metrics', undefined), 200);
  const closed = await start(t, { authenticator: fakeAuthenticator(tokens), config: { metricsToken: 'a-static-metrics-token-1234' } });
  t.equal(await callHttp(closed.httpUrl, 'GET /metrics', undefined), 401);
  t.equal(await callHttp(closed.httpUrl, 'GET /metrics', 'a-static-metrics-token-1234'), 200);
  t.equal(await callHttp(closed.httpUrl, 'GET /metrics', 'tok-metrics'), 200);
  t.equal(await callHttp(closed.httpUrl, 'GET /metrics', 'tok-chat'), 403);
});
