import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { createLog, levelFrom, type LogOptions } from '../../observability/log.js';
import { prettyLine } from '../../observability/log_pretty.js';

function capture(opts: Omit<LogOptions, 'destination'> = {}) {
  const lines: string[] = [];
  const log = createLog({ format: 'json', ...opts, destination: { write: (s: string) => { lines.push(s); } } });
  const entries = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines, entries };
}

t.test('a line is one JSON object with level, ISO time and msg, plus its fields', async (t) => {
  const { log, lines, entries } = capture();
  log.info('hello', { runId: 'r1' });
  t.equal(lines.length, 1);
  t.ok(lines[0]?.endsWith('\n'), 'one line');
  const [e] = entries();
  t.match(e, { level: 'info', msg: 'hello', runId: 'r1', pid: process.pid });
  t.match(e?.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

t.test('a child binds run, session and tenant to every line it writes', async (t) => {
  const { log, entries } = capture();
  const run = log.child({ runId: 'r2', session: 's', tenant: 'acme' });
  run.warn('slow');
  run.error('failed', { code: 'INTERNAL' });
  t.match(entries(), [
    { level: 'warn', msg: 'slow', runId: 'r2', session: 's', tenant: 'acme' },
    { level: 'error', msg: 'failed', runId: 'r2', session: 's', tenant: 'acme', code: 'INTERNAL' },
  ]);
});

t.test('credentials are scrubbed from fields, nested fields, bindings and the message', async (t) => {
  const { log, lines } = capture();
  const key = 'sk-proj-abcdefghijklmnopqrstuvwxyz012345';
  log.child({ authorization: `Bearer ${key}` }).warn(`upstream refused key ${key}`, { apiKey: key, nested: { password: 'hunter2hunter2' } });
  const text = lines.join('');
  t.notMatch(text, key);
  t.notMatch(text, 'hunter2hunter2');
  t.match(text, '[REDACTED]');
});

t.test('the level filters lines; unknown levels read as info', async (t) => {
  const { log, entries } = capture({ level: 'warn' });
  log.debug('d');
  log.info('i');
  log.warn('w');
  t.same(entries().map((e) => e.msg), ['w']);
  t.equal(levelFrom('DEBUG'), 'debug');
  t.equal(levelFrom('loud'), 'info');
  t.equal(levelFrom(undefined), 'info');
});

t.test('pretty format renders time, level, message and fields on one line', async (t) => {
  const { log, lines } = capture({ format: 'pretty' });
  log.warn('rate limiter failed', { limiter: 'chat', error: 'boom now' });
  const yellowWarn = '\u001b[33mWARN \u001b[0m';
  t.match(lines[0], /^\d\d:\d\d:\d\d\.\d{3} /);
  t.ok(lines[0]?.endsWith(` ${yellowWarn} rate limiter failed  limiter=chat error="boom now"\n`), lines[0]);
  t.equal(prettyLine('not json\n'), 'not json\n', 'a line that is not JSON passes through');
  const json = capture();
  json.log.info('plain');
  t.match(prettyLine(json.lines[0] ?? '', false), /^\d\d:\d\d:\d\d\.\d{3} INFO {2}plain\n$/, 'no colours when asked');
});

t.test('workers log through the same configuration as the main thread (TROUPE_LOG_LEVEL)', async (t) => {
  const script = fileURLToPath(new URL('./fixtures/log_in_worker.js', import.meta.url));
  const r = spawnSync(process.execPath, [script], {
    encoding: 'utf8', env: { ...process.env, TROUPE_LOG_LEVEL: 'warn', TROUPE_LOG_FORMAT: 'json' },
  });
  t.equal(r.status, 0, 'exits 0');
  const entries = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.same(entries.map((e) => e.msg).sort(), ['main warn', 'worker warn Bearer [REDACTED]'].sort(), 'info lines are filtered in both threads');
  const worker = entries.find((e) => String(e.msg).startsWith('worker'));
  t.type(worker?.thread, 'number', 'a worker line names its thread');
  t.equal(entries.find((e) => e.msg === 'main warn')?.apiKey, '[REDACTED]');
  t.equal(r.stdout, '', 'logs never go to stdout');
});
