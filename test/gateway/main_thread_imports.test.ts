// The main thread keeps sockets and routing: importing the gateway (admin API
// included) must not load a database driver, which only the store worker needs
// (actors/store_host.ts). A fresh process imports gateway.js and lists the
// CommonJS modules it loaded.
import { execFileSync } from 'node:child_process';
import t from 'tap';

const probe = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
await import(${JSON.stringify(new URL('../../gateway/gateway.js', import.meta.url).href)});
const drivers = Object.keys(require.cache).filter((k) => /node_modules[\\\\/](pg|pg-pool|@electric-sql)[\\\\/]/.test(k));
process.stdout.write(JSON.stringify(drivers));
`;

t.test('importing the gateway on the main thread loads no database driver', async (t) => {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8', timeout: 60_000 });
  t.same(JSON.parse(out), [], 'no pg, pg-pool or PGlite module on the main thread');
});
