// The operator commands through the real `troupe` binary, as an operator runs them.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const CLI = fileURLToPath(new URL('../../gateway/cli.js', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'troupe-admin-cli-'));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  TROUPE_DATA_DIR: dataDir,
  TROUPE_STORE: 'pglite',
  TROUPE_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
};
delete env.TROUPE_CONFIG;

function troupe(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 90_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

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
