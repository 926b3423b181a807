// A WebSocket connection signed in with an API key has its key checked while it lives (transports/ws_connection.ts):
// on a slow timer while it sends nothing, and never once it has closed, even when its sign-in finishes afterwards.
import t from 'tap';
import type { FrontDoorContext } from '../../transports/context.js';
import { CloseCode, WsConnection, type ConnectionUserData } from '../../transports/ws_connection.js';
import type { WebSocket } from 'uWebSockets.js';
import type { Principal } from '../../security/types.js';

const KEY: Principal = { tenant: 't', user: 'u', scopes: ['chat'], via: 'api_key', keyId: 'k1' };

/** Just what a connection reads of the front door, with an authenticator whose key is live while `live()` says so. */
function harness(live: () => boolean) {
  const asked: number[] = [];
  const ctx = {
    config: { keyIdleRecheckMs: 1_200, maxBufferedBytes: 1e6, maxQueuedBytes: 1e6, slowConsumerMs: 10_000, connectTimeoutMs: 10_000 },
    metrics: { queuedBytes: { inc: () => undefined }, errors: { inc: () => undefined }, framesOut: { json: 0, msgpack: 0 } },
    logger: { warn: () => undefined, error: () => undefined },
    authenticator: {
      authenticate: () => Promise.reject(new Error('not used')),
      stillValid: () => {
        asked.push(performance.now());
        return Promise.resolve(live());
      },
    },
  } as unknown as FrontDoorContext;
  const ended: number[] = [];
  const ws = { end: (code: number) => ended.push(code), cork: (f: () => void) => f(), getBufferedAmount: () => 0, send: () => 1 } as unknown as WebSocket<ConnectionUserData>;
  return { ctx, ws, asked, ended };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `ok()` holds (polling), at most `ms`; answers whether it did. */
async function until(ok: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await sleep(20);
  return ok();
}

t.test('a connection that only listens has its key checked on the timer, and is closed with 4403 once it is revoked', async (t) => {
  let live = true;
  const h = harness(() => live);
  const conn = new WsConnection('json', '127.0.0.1', KEY, h.ctx);
  conn.attach(h.ws);
  t.teardown(() => conn.detach());
  t.ok(await until(() => h.asked.length === 1), 'checked on the timer');
  t.same(h.ended, [], 'live: left open');
  live = false;
  t.ok(await until(() => h.ended.length > 0), 'checked again on the next tick');
  t.same(h.ended, [CloseCode.REVOKED], 'closed with 4403 once the key was found revoked');
  t.equal(h.asked.length, 2);
});

t.test('a sign-in that ends after the connection closed starts no checks', async (t) => {
  const h = harness(() => false);
  const conn = new WsConnection('json', '127.0.0.1', undefined, h.ctx);
  conn.attach(h.ws);
  conn.detach(); // the client went away while `connect` was authenticating
  conn.authenticated(KEY);
  await sleep(2_700);
  t.same(h.asked, [], 'no check of a closed connection');
  t.same(h.ended, []);
});

t.test('an expired credential is not taken for a revoked key', async (t) => {
  const h = harness(() => false);
  const conn = new WsConnection('json', '127.0.0.1', { ...KEY, expiresAt: Date.now() - 1 }, h.ctx);
  conn.attach(h.ws);
  t.teardown(() => conn.detach());
  t.equal(conn.keyCheck(), undefined, 'nothing to ask: requests answer token_expired');
  await sleep(1_400);
  t.same([h.asked, h.ended], [[], []]);
});
