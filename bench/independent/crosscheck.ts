/**
 * Checks the project's own load client against an independent one.
 *
 * Starts Troupe as a user runs it (the embedded default store, a fresh data
 * dir) and a raw uWebSockets.js echo server, then drives both with the Node
 * client (`troupe bench ws`) and with the Go client in wsload.go, same
 * connections and windows, one after the other. It prints, per client, ping
 * through the session actor ÷ raw echo and chat turns/s: if the two clients
 * disagree, the figures a user sees are the independent client's.
 *
 * Usage: node dist/bench/independent/crosscheck.js [--conns N] [--duration S] [--wsload PATH]
 * The Go client is built from bench/independent/wsload.go with Debian's
 * golang-go and golang-github-gorilla-websocket-dev (see that file).
 */
import { execFileSync } from 'node:child_process';
import { scriptArgv } from '../common/args.js';
import { BENCH_AGENT, startGatewayProcess, startReference, type Child } from '../compare/processes.js';
import { runWsBench } from '../ws/run.js';
import { goBinary } from './go_build.js';

interface Figure {
  perSec: number;
  p50: number;
  p99: number;
  errors: number;
}

const USAGE = 'usage: node dist/bench/independent/crosscheck.js [--conns 200] [--duration 10] [--warmup 2] [--wsload PATH]';
const argv = scriptArgv('crosscheck', USAGE, { conns: { type: 'string' }, duration: { type: 'string' }, warmup: { type: 'string' }, wsload: { type: 'string' } });
const values = { conns: argv.conns ?? '200', duration: argv.duration ?? '10', warmup: argv.warmup ?? '2', wsload: argv.wsload };
const conns = Number(values.conns);
const durationS = Number(values.duration);
const warmupS = Number(values.warmup);
if (!Number.isInteger(conns) || conns < 1 || !(durationS > 0) || !(warmupS >= 0)) {
  process.stderr.write('crosscheck: --conns must be a positive integer, --duration and --warmup seconds\n');
  process.exit(2);
}


function goRun(bin: string, url: string, scenario: 'ping' | 'chat' | 'echo', token?: string): Figure {
  const args = [`-url=${url}`, `-conns=${conns}`, `-duration=${durationS}s`, `-warmup=${warmupS}s`, `-scenario=${scenario}`];
  if (token !== undefined) args.push(`-token=${token}`);
  if (scenario === 'chat') args.push(`-agent=${BENCH_AGENT}`);
  const r = JSON.parse(execFileSync(bin, args, { encoding: 'utf8', timeout: (durationS + warmupS + 60) * 1000 })) as {
    perSecond: number; p50Ms: number; p99Ms: number; errors: number;
  };
  return { perSec: r.perSecond, p50: r.p50Ms, p99: r.p99Ms, errors: r.errors };
}

async function nodeRun(url: string, scenario: 'ping' | 'chat', echo: boolean, token?: string): Promise<Figure> {
  const r = await runWsBench({
    url, conns, durationMs: durationS * 1000, warmupMs: warmupS * 1000, scenario, rate: 0, rampPerSec: 0, payload: 0,
    echo, token, agent: echo ? undefined : BENCH_AGENT, drainMs: 10_000, connectTimeoutMs: 10_000, soak: false,
    leakThresholdBytes: 0, metricsUrl: '',
  });
  const errors = Object.values(r.errors).reduce((a, n) => a + n, 0);
  return { perSec: r.requests.perSec, p50: r.latency.p50, p99: r.latency.p99, errors };
}

const round = (n: number) => Math.round(n * 1000) / 1000;
const children: Child[] = [];
try {
  const bin = goBinary('wsload', values.wsload);
  const gw = await startGatewayProcess();
  children.push(gw);
  const echo = await startReference('uws-echo');
  children.push(echo);
  const troupeUrl = `ws://127.0.0.1:${gw.port}/ws`;
  const echoUrl = `ws://127.0.0.1:${echo.port}/ws`;
  const rows: Record<string, Record<string, Figure>> = { node: {}, go: {} };
  // Interleaved so drift in the machine's speed hits both clients alike.
  rows.go.echo = goRun(bin, echoUrl, 'echo');
  rows.node.echo = await nodeRun(echoUrl, 'ping', true);
  rows.go.ping = goRun(bin, troupeUrl, 'ping', gw.token);
  rows.node.ping = await nodeRun(troupeUrl, 'ping', false, gw.token);
  rows.go.chat = goRun(bin, troupeUrl, 'chat', gw.token);
  rows.node.chat = await nodeRun(troupeUrl, 'chat', false, gw.token);
  const summary = Object.fromEntries(Object.entries(rows).map(([client, f]) => [client, {
    ...f, pingOverEcho: round(f.ping.perSec / f.echo.perSec),
  }]));
  process.stdout.write(JSON.stringify({ schema: 'troupe.crosscheck/1', conns, durationS, store: process.env.TROUPE_STORE ?? 'default', clients: summary }, null, 2) + '\n');
} finally {
  await Promise.all(children.map((c) => c.stop()));
}
