// The `troupe` command line through the real binary: options are parsed by one set of
// rules (gateway/argv.ts), a bad line exits 2 naming the option, before any work.
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import t, { type Test } from 'tap';
import { runCli } from '../helpers/gateway_io.js';

const env: NodeJS.ProcessEnv = { ...process.env, TROUPE_DATA_DIR: mkdtempSync(join(tmpdir(), 'troupe-cli-')), TROUPE_STORE: 'none' };
delete env.TROUPE_CONFIG;
delete env.TROUPE_TOKEN;
delete env.TROUPE_JWT_SECRET;
delete env.TROUPE_JWKS;
delete env.TROUPE_WORKERS;

const troupe = (...args: string[]) => runCli(args, env);

async function refused(t: Test, args: string[], message: RegExp): Promise<void> {
  const r = await troupe(...args);
  t.equal(r.code, 2, args.join(' '));
  t.match(r.stderr, message, args.join(' '));
  t.match(r.stderr, /usage: troupe <command>/, 'the usage follows');
  t.equal(r.stdout, '', 'nothing ran');
}

t.test('token: the options it takes, --scope repeated', async (t) => {
  const r = await troupe('token', '--tenant', 'acme', '--user', 'ann', '--scope', 'chat', '--scope=usage:read', '--ttl', '5m');
  t.equal(r.code, 0, r.stderr);
  const claims = decodeJwt(r.stdout.trim());
  t.equal(claims.sub, 'ann');
  t.match(claims, { tenant: 'acme', scope: 'chat usage:read' });
  t.equal((claims.exp ?? 0) - (claims.iat ?? 0), 300);
});

t.test('an unknown option, a missing value or a duplicate exits 2 naming it', async (t) => {
  await refused(t, ['token', '--tenant', 'acme', '--user', 'ann', '--tenat', 'x'], /troupe: unknown option --tenat/);
  await refused(t, ['token', '--tenant', 'acme', '--user'], /--user needs a value/);
  await refused(t, ['token', '--tenant', '--user', 'ann'], /--tenant needs a value/);
  await refused(t, ['token', '--tenant', 'acme', '--tenant', 'other', '--user', 'ann'], /--tenant is given twice/);
  await refused(t, ['token', 'acme', '--tenant', 'acme', '--user', 'ann'], /unexpected argument "acme"/);
  await refused(t, ['start', '--confg', 'troupe.json'], /unknown option --confg/);
  await refused(t, ['chat', 'hi', '--sesion', 'k'], /unknown option --sesion/);
  await refused(t, ['chat', '--url', 'http://127.0.0.1:1'], /chat needs a message/);
});

t.test('demo --workers: a negative number is read as a number and refused as one', async (t) => {
  await refused(t, ['demo', '--workers', '-1'], /--workers must be a whole number/);
  await refused(t, ['demo', '--workers=-1'], /--workers must be a whole number/);
  await refused(t, ['demo', '--workers', '1', '--workers', '2'], /--workers is given twice/);
});

/** A board server that records the paths it is asked for. */
async function boardServer(t: Test): Promise<{ url: string; paths: string[] }> {
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ team: { lead: 'lead', members: ['m'] }, runs: [], tasks: [
      { seq: 1, id: 'task-one', title: 'first', status: 'done', assignee: null, claimedBy: null, attempts: 1, round: 0, delivered: true, error: null, runId: 'r1' },
      { seq: 2, id: 'task-two', title: 'second', status: 'pending', assignee: null, claimedBy: null, attempts: 0, round: 0, delivered: false, error: null, runId: 'r2' },
    ] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths };
}

t.test('teams board: client options and its own are parsed together', async (t) => {
  const srv = await boardServer(t);
  const r = await troupe('teams', 'board', 'writers', '--url', srv.url, '--token', 'tok', '--run', 'r2', '--json');
  t.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { tasks: { id: string }[] };
  t.same(doc.tasks.map((x) => x.id), ['task-two'], '--run filters');
  t.same(srv.paths, ['/v1/teams/writers/board']);
  await refused(t, ['teams', 'board', 'writers', '--url', srv.url, '--token', 'tok', '--status'], /--status needs a value/);
  await refused(t, ['teams', 'board', 'writers', 'extra', '--url', srv.url], /unexpected argument "extra"/);
});

t.test('after -- an argument that looks like an option is text', async (t) => {
  const srv = await boardServer(t);
  const r = await troupe('teams', 'board', '--url', srv.url, '--token', 'tok', '--', '--json');
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /team --json: lead lead/, 'the team is "--json", not the flag');
  t.same(srv.paths, ['/v1/teams/--json/board']);
});

t.test('troupe bench: a bad command line exits 2 before any load is sent', async (t) => {
  await refused(t, ['bench', 'ws', '--conns'], /--conns needs a value/);
  await refused(t, ['bench', 'runtime', '--quick', '--quick'], /--quick is given twice/);
  const r = await troupe('bench', 'ws', '--rate', '-5', '--url', 'ws://127.0.0.1:1/ws');
  t.equal(r.code, 2, 'bench ws --rate -5');
  t.match(r.stderr, /--rate must be a number from 0 to 10000000 \(got "-5"\)/);
});
