// The operator commands through the real `troupe` binary, as an operator runs them.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../helpers/gateway_io.js';

const dataDir = mkdtempSync(join(tmpdir(), 'troupe-admin-cli-'));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  TROUPE_DATA_DIR: dataDir,
  TROUPE_STORE: 'pglite',
  TROUPE_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
};
delete env.TROUPE_CONFIG;

const troupe = (...args: string[]) => runCli(args, env);

t.test('a missing option exits 2 naming it, without touching the database', async (t) => {
  const r = await troupe('keys', 'create', '--tenant', 'acme');
  t.equal(r.code, 2);
  t.match(r.stderr, /--name is required/);
});

t.test('keys create prints the key once; audit verify then finds its row', async (t) => {
  const created = await troupe('keys', 'create', '--tenant', 'acme', '--name', 'ci', '--scope', 'chat');
  t.equal(created.code, 0, created.stderr);
  const key = /trp_[0-9a-f]{12}_[A-Za-z0-9_-]{43}/.exec(created.stdout)?.[0];
  t.ok(key, 'the key is printed');
  t.match(created.stdout, /cannot be shown again/);
  t.notMatch(created.stdout, createHash('sha256').update(key ?? '').digest('hex'), 'its hash is not printed');

  const verified = await troupe('audit', 'verify', '--tenant', 'acme');
  t.equal(verified.code, 0, verified.stderr);
  t.match(verified.stdout, /acme: OK, 1 rows/);
});

t.test('a bad command line exits 2 naming the option, and prints the commands', async (t) => {
  const cases: [string[], RegExp][] = [
    [['keys', 'create', '--tenant', 'acme', '--name', 'ci', '--nmae', 'x'], /unknown option --nmae/],
    [['keys', 'list', '--tenant'], /--tenant needs a value/],
    [['keys', 'list', '--tenant', '--config', 'x.json'], /--tenant needs a value/],
    [['keys', 'list', '--tenant', 'acme', '--tenant', 'other'], /--tenant is given twice/],
    [['audit', 'verify', 'acme'], /unexpected argument "acme"/],
    [['keys', 'list', '--', '--tenant', 'acme'], /unexpected argument "--tenant"/],
  ];
  for (const [args, message] of cases) {
    const r = await troupe(...args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, message, args.join(' '));
    t.match(r.stderr, /keys create --tenant T --name N/, 'the usage follows');
  }
});

t.test('--config is parsed with the other options and a bad file stops the command with exit 2', async (t) => {
  const r = await troupe('keys', 'list', '--tenant', 'acme', '--config', join(dataDir, 'missing.json'));
  t.equal(r.code, 2);
  t.match(r.stderr, /cannot read config file .*missing\.json/);
});

t.test('a value may start with a dash: secrets set --value -s3cr3t', async (t) => {
  const r = await troupe('secrets', 'set', '--tenant', 'acme', '--name', 'dash', '--value', '-s3cr3t');
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stdout + r.stderr, /-s3cr3t/, 'the value is not echoed');
});
