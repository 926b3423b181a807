import t from 'tap';
import { runBenchCommand } from '../../bench/cli.js';
import { runWsBench } from '../../bench/ws/run.js';
import { countingServer, wsOptions } from './helpers.js';

const run = (argv: string[]) => runBenchCommand(argv, () => undefined);

t.test('unknown flags and bad values are refused with INVALID_REQUEST', async (t) => {
  await t.rejects(run(['ws', '--conn', '5']), { code: 'INVALID_REQUEST', message: /unknown option --conn/ });
  await t.rejects(run(['ws', '--duration', 'ten']), { code: 'INVALID_REQUEST', message: /--duration/ });
  await t.rejects(run(['ws', '--scenario', 'storm']), { code: 'INVALID_REQUEST', message: /--scenario/ });
  await t.rejects(run(['http', '--conns', '0']), { code: 'INVALID_REQUEST', message: /--conns/ });
  await t.rejects(run(['fly']), { code: 'INVALID_REQUEST', message: /unknown benchmark/ });
  await t.rejects(run(['tracing', '--provider', 'anthropic']), { code: 'INVALID_REQUEST', message: /--provider must be openai or simulated/ });
});

t.test('a bad command line is refused by name before anything runs', async (t) => {
  await t.rejects(run(['ws', '--conns']), { code: 'INVALID_REQUEST', message: '--conns needs a value' });
  await t.rejects(run(['ws', '--conns', '--echo']), { code: 'INVALID_REQUEST', message: '--conns needs a value' });
  await t.rejects(run(['ws', '--conns', '2', '--conns', '3']), { code: 'INVALID_REQUEST', message: '--conns is given twice' });
  await t.rejects(run(['runtime', '--quick', '--quick']), { code: 'INVALID_REQUEST', message: '--quick is given twice' });
  await t.rejects(run(['runtime', '--quick=yes']), { code: 'INVALID_REQUEST', message: '--quick takes no value' });
  await t.rejects(run(['start', '--runs', '2', 'extra']), { code: 'INVALID_REQUEST', message: 'unexpected argument "extra"' });
  await t.rejects(run(['runtime', '--', '--quick']), { code: 'INVALID_REQUEST', message: 'unexpected argument "--quick"' }, 'after -- nothing is an option');
  await t.rejects(run(['start', '--echo']), { code: 'INVALID_REQUEST', message: 'unknown option --echo' }, 'each command takes only its own options');
  // --cpu-prof is one of bench channel's options: the line gets as far as the platform check
  await t.rejects(run(['channel', '--platform', 'irc', '--cpu-prof', 'x']), { code: 'INVALID_REQUEST', message: /--platform must be one of/ });
});

t.test('a negative number reaches the range check, with or without =', async (t) => {
  await t.rejects(run(['ws', '--rate', '-5']), { code: 'INVALID_REQUEST', message: '--rate must be a number from 0 to 10000000 (got "-5")' });
  await t.rejects(run(['http', '--conns=-1']), { code: 'INVALID_REQUEST', message: '--conns must be a number from 1 to 100000 (got "-1")' });
  await t.rejects(run(['start', '--idle', '-3s']), { code: 'INVALID_REQUEST', message: /--idle must be a duration/ });
  await t.rejects(run(['start', '--runs', '']), { code: 'INVALID_REQUEST', message: /--runs must be a number/ }, 'an empty value is not 0');
});

t.test('only loopback targets are accepted', async (t) => {
  await t.rejects(run(['ws', '--url', 'ws://example.com/ws', '--no-metrics']), { code: 'FORBIDDEN' });
  await t.rejects(run(['http', '--url', 'http://10.0.0.1:8787', '--no-metrics']), { code: 'FORBIDDEN' });
});

t.test('the CLI runs a benchmark and writes its JSON', async (t) => {
  const srv = await countingServer(t);
  const dir = t.testdir();
  const lines: string[] = [];
  await runBenchCommand(['ws', '--url', srv.url, '--echo', '--conns', '2', '--duration', '300ms', '--warmup', '0s', '--no-metrics', '--json', `${dir}/r.json`], (s) => lines.push(s));
  const { readFileSync } = await import('node:fs');
  const doc = JSON.parse(readFileSync(`${dir}/r.json`, 'utf8')) as { requests: { sent: number } };
  t.equal(doc.requests.sent, srv.counts.ping);
  t.match(lines.join('\n'), /completed \/ failed \/ retryable \/ lost/);
});

t.test('open loop sends at the asked rate, not as fast as answers come', async (t) => {
  const srv = await countingServer(t);
  const r = await runWsBench(wsOptions(srv.url, { conns: 3, rate: 200, durationMs: 1_000, echo: true, metricsUrl: '' }));
  t.ok(r.requests.sent >= 180 && r.requests.sent <= 202, `sent ${r.requests.sent} at 200/s for 1 s`);
  t.equal(srv.counts.ping, r.requests.sent + r.requests.warmup);
});

t.test('the ramp opens connections at the asked rate', async (t) => {
  const srv = await countingServer(t);
  const t0 = Date.now();
  const r = await runWsBench(wsOptions(srv.url, { conns: 10, rampPerSec: 20, scenario: 'idle', durationMs: 100, echo: true, metricsUrl: '' }));
  t.equal(r.connections.opened, 10);
  t.ok(Date.now() - t0 >= 450, '10 connections at 20/s take about half a second');
  t.equal(r.requests.sent, 0, 'idle sends nothing but connect');
});
