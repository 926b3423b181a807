// The operator commands, called as functions, on PGlite in a temp data dir and on the
// machine's PostgreSQL in a private schema. Each backend's store is opened once.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  auditVerify, keysCreate, keysList, keysRevoke, migrateCommand, secretsRotate, secretsSet, type AdminContext,
} from '../../gateway/admin.js';
import { runAdminCommand } from '../../gateway/admin_cli.js';
import { openGatewayStore } from '../../gateway/store.js';
import { createKeyring, SecretBox } from '../../security/secrets.js';
import { openStore, type Store } from '../../store/index.js';
import { migrations } from '../../store/migrations/index.js';
import { postgresUrl, requireService } from '../helpers/services.js';
import { testSchema, type TapTest } from '../store/backends.js';

const KEY_A = randomBytes(32).toString('hex');
const KEY_B = randomBytes(32).toString('hex');
const ENV_A = { TROUPE_ENCRYPTION_KEY: KEY_A };
const ENV_B = { TROUPE_ENCRYPTION_KEY: KEY_B, TROUPE_ENCRYPTION_KEY_VERSION: '2', TROUPE_ENCRYPTION_KEYS_OLD: `1:${KEY_A}` };

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs one command with captured output. */
async function run(base: AdminContext, fn: (ctx: AdminContext) => Promise<number>, env: Record<string, string> = ENV_A): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await fn({ ...base, env, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const tempDir = (): string => mkdtempSync(join(tmpdir(), 'troupe-admin-'));

async function auditActions(store: Store, tenant: string): Promise<{ action: string; actor: string; outcome: string; target: string | null }[]> {
  const res = await store.db.query<{ action: string; actor: string; outcome: string; target: string | null }>(
    'SELECT action, actor, outcome, target FROM audit_log WHERE tenant_id = $1 ORDER BY seq', [tenant]);
  return res.rows;
}

/** The behaviours both backends must show; `base` carries an open store. */
function suite(t: TapTest, base: AdminContext & { store: Store }): void {
  const { store } = base;

  t.test('a key is created, listed without secret or hash, stored as its SHA-256, then revoked', async (t) => {
    const created = await run(base, (c) => keysCreate({ tenant: 'acme', name: 'ci', scopes: ['chat', 'agents:read'], expires: '30d' }, c));
    t.equal(created.code, 0, created.err);
    const key = /trp_[0-9a-f]{12}_[A-Za-z0-9_-]{43}/.exec(created.out)?.[0];
    if (key === undefined) throw new Error(`no key printed: ${created.out}`);
    t.match(created.out, /cannot be shown again/);
    const id = key.slice(4, 16);

    const row = await store.db.query<{ key_hash: string; scopes: string[] }>(
      'SELECT key_hash, scopes FROM api_keys WHERE tenant_id = $1 AND id = $2', ['acme', id]);
    t.equal(row.rows[0]?.key_hash, sha256(key), 'the database holds the SHA-256 of the printed key');
    t.same(row.rows[0]?.scopes, ['chat', 'agents:read']);
    t.equal((await store.findApiKeyByHash(sha256(key)))?.tenantId, 'acme', 'the key authenticates');

    const listed = await run(base, (c) => keysList({ tenant: 'acme' }, c));
    t.equal(listed.code, 0);
    t.match(listed.out, id);
    t.match(listed.out, /chat agents:read/);
    t.notMatch(listed.out, key.slice(17), 'the secret part is never listed');
    t.notMatch(listed.out, sha256(key), 'the hash is never listed');
    const revokedColumn = (out: string): string | undefined => out.split('\n').find((l) => l.startsWith(id))?.split(/\s{2,}/)[5];
    t.equal(revokedColumn(listed.out), '-');

    const revoked = await run(base, (c) => keysRevoke({ tenant: 'acme', id }, c));
    t.equal(revoked.code, 0, revoked.err);
    t.match(revokedColumn((await run(base, (c) => keysList({ tenant: 'acme' }, c))).out), /^\d{4}-\d\d-\d\d \d\d:\d\d$/);
    t.equal(await store.findApiKeyByHash(sha256(key)), null, 'a revoked key no longer authenticates');

    const audit = await auditActions(store, 'acme');
    t.same(audit.map((a) => [a.actor, a.action, a.outcome, a.target]), [
      ['cli', 'admin.key.create', 'success', id],
      ['cli', 'admin.key.revoke', 'success', id],
    ]);
  });

  t.test('a key that never expires is listed as such', async (t) => {
    const created = await run(base, (c) => keysCreate({ tenant: 'forever', name: 'ops', expires: 'never' }, c));
    t.equal(created.code, 0, created.err);
    const listed = await run(base, (c) => keysList({ tenant: 'forever' }, c));
    t.match(listed.out.split('\n')[1], /ops\s+-\s+\S+ \S+\s+never\s+-\s+-$/);
  });

  t.test('revoking an unknown key fails with NOT_FOUND, exit 1, and leaves a failure audit row', async (t) => {
    await run(base, (c) => keysCreate({ tenant: 'nokey', name: 'x' }, c));
    const r = await run(base, (c) => keysRevoke({ tenant: 'nokey', id: 'no-such-key' }, c));
    t.equal(r.code, 1);
    t.match(r.err, /NOT_FOUND.*no-such-key/);
    t.same((await auditActions(store, 'nokey')).at(-1), { action: 'admin.key.revoke', actor: 'cli', outcome: 'failure', target: 'no-such-key' });
  });

  t.test('listing the keys of a tenant that does not exist fails with NOT_FOUND', async (t) => {
    const r = await run(base, (c) => keysList({ tenant: 'ghost' }, c));
    t.equal(r.code, 1);
    t.match(r.err, /NOT_FOUND.*ghost/);
  });

  t.test('bad or missing options are usage errors (exit 2) naming the option', async (t) => {
    const cases: [Promise<Run>, RegExp][] = [
      [run(base, (c) => keysCreate({ name: 'x' }, c)), /--tenant is required/],
      [run(base, (c) => keysCreate({ tenant: 'acme' }, c)), /--name is required/],
      [run(base, (c) => keysCreate({ tenant: 'acme', name: 'x', expires: 'soon' }, c)), /--expires/],
      [run(base, (c) => keysCreate({ tenant: 'acme', name: 'x', scopes: ['has space'] }, c)), /scopes/],
      [run(base, (c) => keysCreate({ tenant: 'bad tenant!', name: 'x' }, c)), /tenant id/],
      [run(base, (c) => keysRevoke({ tenant: 'acme' }, c)), /--id is required/],
      [run(base, (c) => secretsSet({ tenant: 'acme', name: 'x' }, c)), /--value is required/],
    ];
    for (const [pending, message] of cases) {
      const r = await pending;
      t.equal(r.code, 2, String(message));
      t.match(r.err, message);
    }
  });

  t.test('secrets rotate re-encrypts under the new key version and the value still decrypts', async (t) => {
    t.equal((await run(base, (c) => secretsSet({ tenant: 'rot', name: 'openai', value: 'sk-rotate-me' }, c), ENV_A)).code, 0);
    const before = await store.db.query<{ ciphertext: string; key_version: number }>(
      `SELECT ciphertext, key_version FROM secrets WHERE tenant_id = 'rot' AND name = 'openai'`);
    t.equal(Number(before.rows[0].key_version), 1);
    t.match(before.rows[0].ciphertext, /^v1:/);
    t.notMatch(before.rows[0].ciphertext, 'sk-rotate-me');

    const r = await run(base, (c) => secretsRotate({ tenant: 'rot' }, c), ENV_B);
    t.equal(r.code, 0, r.err);
    t.match(r.out, /rot: 1 re-encrypted, 0 already at key version 2/);

    const after = await store.db.query<{ ciphertext: string; key_version: number }>(
      `SELECT ciphertext, key_version FROM secrets WHERE tenant_id = 'rot' AND name = 'openai'`);
    t.equal(Number(after.rows[0].key_version), 2);
    t.match(after.rows[0].ciphertext, /^v2:/);
    const onlyB = new SecretBox(createKeyring(2, [[2, Buffer.from(KEY_B, 'hex')]]));
    t.equal(onlyB.decrypt(after.rows[0].ciphertext, { tenant: 'rot', recordId: 'secret:openai' }), 'sk-rotate-me', 'key B alone opens it');

    const again = await run(base, (c) => secretsRotate({ tenant: 'rot' }, c), ENV_B);
    t.match(again.out, /rot: 0 re-encrypted, 1 already at key version 2/);
    t.same((await auditActions(store, 'rot')).map((a) => `${a.action}:${a.outcome}`), ['admin.secret.set:success', 'admin.secrets.rotate:success']);
  });

  t.test('a tampered secret is reported by name, never in plaintext, and fails rotate', async (t) => {
    for (const [name, value] of [['a', 'plain-alpha'], ['b', 'plain-bravo']]) {
      await run(base, (c) => secretsSet({ tenant: 'tamp', name, value }, c), ENV_A);
    }
    // b's ciphertext under a's name: well formed, but bound to another record.
    await store.db.query(`UPDATE secrets SET ciphertext = (SELECT ciphertext FROM secrets WHERE tenant_id = 'tamp' AND name = 'b')
                          WHERE tenant_id = 'tamp' AND name = 'a'`);
    const r = await run(base, (c) => secretsRotate({ tenant: 'tamp' }, c), ENV_B);
    t.equal(r.code, 1);
    t.match(r.err, /tamp\/a .*failed authentication/);
    t.match(r.out, /tamp: 1 re-encrypted, 0 already at key version 2, 1 FAILED/);
    t.notMatch(r.out + r.err, /plain-/);
    t.same((await auditActions(store, 'tamp')).at(-1)?.outcome, 'failure');
  });

  t.test('without an encryption key in the environment a key file is generated, with a warning', async (t) => {
    const r = await run(base, (c) => secretsSet({ tenant: 'gen', name: 'x', value: 'v' }, c), {});
    t.equal(r.code, 0, r.err);
    t.match(r.err, /warning: generated a new encryption key at .*encryption\.key/);
  });

  t.test('audit verify passes on intact chains and names the first broken link after tampering', async (t) => {
    await run(base, (c) => keysCreate({ tenant: 'chain', name: 'one' }, c));
    await run(base, (c) => keysCreate({ tenant: 'chain', name: 'two' }, c));
    await run(base, (c) => keysCreate({ tenant: 'chain', name: 'three' }, c));
    const ok = await run(base, (c) => auditVerify({}, c));
    t.equal(ok.code, 0, ok.out);
    t.match(ok.out, /chain: OK, 3 rows/);
    t.match(ok.out, /audit log OK/);

    await store.db.transaction(async (q) => {
      await q.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update');
      await q.query(`UPDATE audit_log SET actor = 'mallory' WHERE tenant_id = 'chain' AND seq = 2`);
      await q.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update');
    });
    const one = await run(base, (c) => auditVerify({ tenant: 'chain' }, c));
    t.equal(one.code, 1);
    t.match(one.out, /chain: BROKEN at seq 2/);
    const all = await run(base, (c) => auditVerify({}, c));
    t.equal(all.code, 1);
    t.match(all.out, /chain: BROKEN at seq 2/);
    t.match(all.out, /acme: OK/, 'other tenants are still reported');
  });
}

t.test('on PGlite in a data dir', async (t) => {
  const dataDir = tempDir();
  const config = { store: { kind: 'pglite' as const }, dataDir };
  const quiet = { config, out: () => undefined };

  t.test('a fresh data dir starts from the migrated template, and migrate reports it up to date', async (t) => {
    const latest = Math.max(...migrations.map((m) => m.version));
    const first = await run(quiet, migrateCommand);
    t.equal(first.code, 0, first.err);
    t.match(first.out, new RegExp(`schema up to date \\(version ${latest}\\)`));
    const second = await run(quiet, migrateCommand);
    t.equal(second.code, 0, second.err);
    t.match(second.out, /schema up to date \(version \d+\)/);
  });

  t.test('the commands', async (t) => {
    const store = await openGatewayStore(config);
    if (store === undefined) throw new Error('no store');
    t.teardown(() => store.close());
    suite(t, { ...quiet, store });
  });
});

t.test('unknown options and commands are usage errors before any store is opened', async (t) => {
  const err: string[] = [];
  const ctx: AdminContext = { config: { store: { kind: 'none' }, dataDir: tempDir() }, out: () => undefined, err: (l) => err.push(l) };
  t.equal(await runAdminCommand(['keys', 'create', '--tenant', 'a', '--nmae', 'x'], ctx), 2);
  t.match(err.join('\n'), /unknown option --nmae/);
  t.equal(await runAdminCommand(['keys', 'rename'], ctx), 2);
  t.match(err.join('\n'), /unknown command "keys rename"/);
  t.equal(await runAdminCommand(['keys', 'list', '--tenant'], ctx), 2);
  t.match(err.join('\n'), /--tenant needs a value/);
});

t.test('with no store configured, commands fail with UNAVAILABLE', async (t) => {
  const r = await run({ config: { store: { kind: 'none' }, dataDir: tempDir() }, out: () => undefined }, (c) => keysList({ tenant: 'acme' }, c));
  t.equal(r.code, 1);
  t.match(r.err, /UNAVAILABLE.*TROUPE_STORE=none/);
});

const url = await postgresUrl();
t.test('on PostgreSQL', { skip: requireService('PostgreSQL', url) }, async (t) => {
  const databaseUrl = url ?? '';
  const schema = testSchema();
  const config = { store: { kind: 'postgres' as const, databaseUrl }, dataDir: tempDir() };
  const a = await openStore({ databaseUrl, schema, migrate: false, poolSize: 2 });
  const b = await openStore({ databaseUrl, schema, migrate: false, poolSize: 2 });
  t.teardown(async () => {
    await b.close();
    await a.db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await a.close();
  });

  t.test('two concurrent migrate commands apply the schema exactly once', async (t) => {
    const [ra, rb] = await Promise.all([run({ config, out: () => undefined, store: a }, migrateCommand), run({ config, out: () => undefined, store: b }, migrateCommand)]);
    t.equal(ra.code + rb.code, 0);
    t.same([ra.out, rb.out].filter((o) => o.startsWith('applied')).length, 1);
    t.same([ra.out, rb.out].filter((o) => o.startsWith('schema up to date')).length, 1);
    const again = await run({ config, out: () => undefined, store: a }, migrateCommand);
    t.match(again.out, /schema up to date/);
  });

  t.test('the commands', async (t) => {
    suite(t, { config, out: () => undefined, store: a });
  });
});
