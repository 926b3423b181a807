// The store worker: one thread owns the database. Its crash and replacement, API-key
// lookups while it restarts, a flush on SIGTERM and backpressure from a slow database,
// on embedded PGlite and on the real PostgreSQL server.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import t, { type Test } from 'tap';
import { storeHost, type StoreRequest } from '../../actors/store_host.js';
import { loadConfig, type GatewayConfig } from '../../gateway/config.js';
import { startGateway, type RunningGateway } from '../../gateway/gateway.js';
import { ActorSystem } from '../../runtime/index.js';
import { generateApiKey } from '../../security/api_keys.js';
import { signToken } from '../../security/jwt.js';
import { hashApiKey, openStore } from '../../store/index.js';
import type { StoreSettings } from '../../store/settings.js';
import { postgresUrl, requireService } from '../helpers/services.js';
import { STORE_CALLS } from '../helpers/store_calls.js';
import { startGatewayProcess, wsSteps } from '../helpers/gateway_io.js';
import { dropSchemaOnTeardown } from '../store/backends.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
// Two backends, several gateway starts and a child process: PGlite is slow to start on a busy machine.
t.setTimeout(900_000);

const call = (port: number, steps: [string, Record<string, unknown>][], bearer?: string) => wsSteps(port, steps, bearer);

function configFor(dataDir: string, env: Record<string, string>): GatewayConfig {
  return {
    ...loadConfig({ TROUPE_DATA_DIR: dataDir, TROUPE_PORT: '0', TROUPE_WORKERS: '1', TROUPE_JWT_SECRET: SECRET, ...env }),
    agents: [{ id: 'fast', model: 'sim', provider: { kind: 'simulated', tokens: 4 } }],
  };
}

function nextReady(gw: RunningGateway, host: number): Promise<void> {
  return new Promise((resolve) => {
    const off = gw.system.workers?.onEvent((e) => {
      if (e.type === 'worker-ready' && e.host === host) {
        off?.();
        resolve();
      }
    });
  });
}

async function suite(t: Test, env: Record<string, string>, settings: (dataDir: string) => StoreSettings): Promise<void> {
  // One gateway for the in-process cases: each start costs seconds of PGlite on a busy machine.
  const gw = await startGateway(configFor(mkdtempSync(join(tmpdir(), 'troupe-sw-')), env));
  t.teardown(() => gw.shutdown());
  const store = gw.store!;
  const host = gw.system.workers!.reservedHosts[0];
  // The very first turn of a process pays for cold code paths (WASM and JS still in their
  // baseline tiers); on a loaded CI machine it can pass the backend's 10 s ask. Warm up first.
  const warm = await signToken({ secret: SECRET, tenant: 'warmup', user: 'u', ttlSec: 600 });
  await call(gw.port, [['connect', {}], ['chat.send', { message: 'warm up', sessionKey: 'warm' }]], warm);

  t.test('the store lives on a reserved worker of its own, and the gateway is ready once it is open', async (t) => {
    t.equal(host, 2, 'one keyed worker, then the store worker');
    t.same(gw.system.workers?.hosts, [1], 'sessions are never placed on it');
    t.equal(store.ref.host, host);
    t.equal(store.ready, true);
    t.equal((await fetch(`http://127.0.0.1:${gw.port}/ready`)).status, 200);
  });

  t.test('a crashed store worker is replaced: an ask in flight gets a retryable UNAVAILABLE, flushed history survives', async (t) => {
    const tenant = `t${randomBytes(4).toString('hex')}`;
    const token = await signToken({ secret: SECRET, tenant, user: 'u', ttlSec: 600 });
    const sent = await call(gw.port, [['connect', {}], ['chat.send', { message: 'keep me', sessionKey: 'c1' }]], token);
    t.equal(sent[1].ok, true, JSON.stringify(sent[1]));
    await store.flush(30_000);
    t.equal(await store.call(STORE_CALLS, 'countMessages', { tenant }), 2, 'the turn is written');

    const inFlight = store.call(STORE_CALLS, 'wait', { ms: 5_000 });
    await new Promise((r) => setTimeout(r, 200));
    const replaced = nextReady(gw, host);
    t.equal(gw.system.workers!.killWorker(host), true);
    const err = await inFlight.then(() => null, (e: unknown) => e as { code?: string; retryable?: boolean });
    t.match(err, { code: 'UNAVAILABLE', retryable: true }, 'the caller is told, never left waiting');
    t.equal((await fetch(`http://127.0.0.1:${gw.port}/ready`)).status, 503, 'not ready while the store is down');
    await replaced;
    await store.whenReady();
    t.equal(await store.call(STORE_CALLS, 'countMessages', { tenant }), 2, 'nothing written before the crash is lost');
    const after = await call(gw.port, [['connect', {}], ['chat.send', { message: 'after the crash', sessionKey: 'c1' }]], token);
    t.equal(after[1].ok, true, 'chat works on the replacement');
    // The session's writes travel worker -> store worker on their own link, which the
    // replacement's worker reconnects; the reply reaches us on another. So wait for them
    // (bounded), flushing each time, rather than racing one flush against the link.
    let count = 0;
    for (const until = Date.now() + 15_000; count !== 4 && Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
      await store.flush(30_000);
      count = await store.call(STORE_CALLS, 'countMessages', { tenant });
    }
    t.equal(count, 4, 'and its turn is written too');
  });

  t.test('API-key lookups while the store worker restarts: UNAVAILABLE (retryable) or success, never UNAUTHORIZED', async (t) => {
    const tenant = `t${randomBytes(4).toString('hex')}`;
    const key = generateApiKey();
    await store.call(STORE_CALLS, 'createApiKey', { tenant, name: 'k', keyHash: hashApiKey(key.key), scopes: ['chat'], expiresAt: Date.now() + 3_600_000 });
    const replaced = nextReady(gw, host);
    gw.system.workers!.killWorker(host);
    const during = await Promise.all([0, 1, 2].map(() => call(gw.port, [['connect', { token: key.key }]])));
    for (const [reply] of during) {
      if (reply.ok) t.match(reply.payload, { tenant }, 'answered after the replacement opened the store');
      else t.match(reply.error, { code: 'UNAVAILABLE', retryable: true }, 'a retryable refusal, not a wrong-credentials one');
    }
    await replaced;
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      const [reply] = await call(gw.port, [['connect', { token: key.key }]]);
      ok = reply.ok === true;
      if (!ok) {
        t.equal(reply.error?.code, 'UNAVAILABLE');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    t.ok(ok, 'the key authenticates again once the store is back');
  });

  t.test('SIGTERM flushes: every turn finished before the signal is in the store after exit', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'troupe-sw-'));
    const tenant = `t${randomBytes(4).toString('hex')}`;
    const { child, port, output } = await startGatewayProcess({ TROUPE_DATA_DIR: dataDir, TROUPE_JWT_SECRET: SECRET, TROUPE_WORKERS: '1', ...env }, 120_000);
    t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const token = await signToken({ secret: SECRET, tenant, user: 'u', ttlSec: 600 });
    const turns = 20;
    const steps: [string, Record<string, unknown>][] = [['connect', {}]];
    for (let i = 0; i < turns; i++) steps.push(['chat.send', { message: `turn ${i}`, sessionKey: `s${i % 4}` }]);
    for (let i = 0; i < 600 && (await fetch(`http://127.0.0.1:${port}/ready`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    const warm = await signToken({ secret: SECRET, tenant: 'warmup', user: 'u', ttlSec: 600 });
    await call(port, [['connect', {}], ['chat.send', { message: 'warm up', sessionKey: 'warm' }]], warm);
    const replies = await call(port, steps, token);
    t.equal(replies.filter((r) => r.ok).length, turns + 1, JSON.stringify(replies.filter((r) => !r.ok)));
    child.kill('SIGTERM');
    t.equal(await exited, 0, output());
    const store = await openStore(storeOptions(settings(join(dataDir, 'pglite'))));
    t.teardown(() => store.close());
    // Messages, not rows: a user message and the reply written with it are one row (migration 011).
    const n = await store.db.query<{ n: number }>('SELECT (count(*) + count(reply))::int AS n FROM messages WHERE tenant_id = $1', [tenant]);
    t.equal(Number(n.rows[0].n), turns * 2, 'every user message and every reply');
  });
}

function storeOptions(s: StoreSettings) {
  return s.kind === 'pglite' ? { dataDir: s.dataDir, migrate: false } : { databaseUrl: s.databaseUrl, schema: s.schema, migrate: false };
}

t.test('on embedded PGlite', (t) => suite(t, { TROUPE_STORE: 'pglite' }, (dir) => ({ kind: 'pglite', dataDir: dir })));

const pgUrl = await postgresUrl();

t.test('on PostgreSQL', { skip: requireService('PostgreSQL', pgUrl) }, async (t) => {
  const url = pgUrl as string;
  const schema = `troupe_sw_${randomBytes(4).toString('hex')}`;
  dropSchemaOnTeardown(t, url, schema);
  await suite(t, { TROUPE_STORE: 'postgres', DATABASE_URL: url, TROUPE_DB_SCHEMA: schema }, () => ({ kind: 'postgres', databaseUrl: url, schema }));

  t.test('a slow database applies backpressure: queues stay bounded and every append is written or counted', async (t) => {
    const system = new ActorSystem();
    t.teardown(() => system.shutdown(1_000));
    const ref = system.spawn<StoreRequest>({ factory: storeHost, args: { store: { kind: 'postgres', databaseUrl: url, schema }, maxQueued: 50 } },
      { mailbox: { capacity: 100, overflow: 'reject' } });
    await ref.ask({ t: 'ready' }, { timeoutMs: 60_000 });
    const tenant = `t${randomBytes(4).toString('hex')}`;
    // Open the session (and tenant) first, so the appends below only wait on the message table.
    await ref.ask({ t: 'load', tenant, sessionKey: 'slow', agent: 'a', limit: 10 }, { timeoutMs: 30_000 });
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    t.teardown(() => locker.end());
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE ${schema}.messages IN ACCESS EXCLUSIVE MODE`);
    const sent = 1_000;
    let refused = 0;
    const codes = new Set<string | undefined>();
    for (let i = 0; i < sent; i++) {
      // A full 'reject' mailbox refuses a local tell by throwing OVERLOADED at the sender.
      try {
        ref.tell({ t: 'append', tenant, sessionKey: 'slow', agent: 'a', message: { role: 'user', content: `m${i}`, at: Date.now() } });
      } catch (err) {
        codes.add((err as { code?: string }).code);
        refused++;
      }
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 50));
    }
    t.ok(refused > 0, 'past the bounds, the mailbox refuses instead of growing');
    t.same([...codes], ['OVERLOADED'], 'as a retryable OVERLOADED');
    t.ok(sent - refused <= 50 + 100 + 1, `at most queue + mailbox + one waiting append are held (${sent - refused})`);
    await locker.query('COMMIT');
    // The mailbox may still be full for a moment: a refused ask is retried.
    for (let i = 0; i < 100; i++) {
      const done = await ref.ask({ t: 'flush' }, { timeoutMs: 60_000 }).then(() => true, (err: { code?: string }) => {
        if (err.code !== 'OVERLOADED') throw err;
        return false;
      });
      if (done) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    t.teardown(() => c.end());
    const n = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.messages WHERE tenant_id = $1`, [tenant]);
    t.equal(Number(n.rows[0].n) + refused, sent, 'nothing is lost silently: written + refused = sent');
  });
});
