// The main thread keeps sockets and routing: importing the gateway (admin API
// included) must not load a database driver, which only the store worker needs
// (actors/store_host.ts), nor piscina, which only a host that isolates a tool
// needs (runtime/tasks.ts loads it with the first TaskPool). A fresh process
// imports the gateway's entry modules and lists the CommonJS modules it loaded.
import { execFileSync } from 'node:child_process';
import t from 'tap';

const probe = (modules: string[], pattern: string) => `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
${modules.map((m) => `await import(${JSON.stringify(new URL(m, import.meta.url).href)});`).join('\n')}
const loaded = Object.keys(require.cache).filter((k) => new RegExp(${JSON.stringify(pattern)}).test(k));
process.stdout.write(JSON.stringify(loaded));
`;

const loaded = (modules: string[], pattern: string): string[] =>
  JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', probe(modules, pattern)], { encoding: 'utf8', timeout: 60_000 })) as string[];

t.test('importing the gateway on the main thread loads no database driver', async (t) => {
  t.same(loaded(['../../gateway/gateway.js'], String.raw`node_modules[\\/](pg|pg-pool|@electric-sql)[\\/]`), [],
    'no pg, pg-pool or PGlite module on the main thread');
});

t.test('the runtime and the gateway load piscina only when a TaskPool is made', async (t) => {
  const piscina = String.raw`node_modules[\\/]piscina[\\/]`;
  t.same(loaded(['../../runtime/index.js', '../../gateway/boot.js', '../../gateway/gateway.js'], piscina), [],
    'no piscina module after importing runtime/index.js and the gateway');
  const probePool = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { TaskPool } = await import(${JSON.stringify(new URL('../../runtime/index.js', import.meta.url).href)});
const pool = new TaskPool({ maxThreads: 1 });
const n = Object.keys(require.cache).filter((k) => /node_modules[\\\\/]piscina[\\\\/]/.test(k)).length;
await pool.close();
process.stdout.write(String(n));
`;
  const n = Number(execFileSync(process.execPath, ['--input-type=module', '-e', probePool], { encoding: 'utf8', timeout: 60_000 }));
  t.ok(n > 0, 'the first TaskPool loads piscina');
});
