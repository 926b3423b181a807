/**
 * The main thread's cost per WebSocket `ping` through the session actor, in
 * counts that do not depend much on machine load: user-space instructions
 * retired by the gateway's main thread (`perf stat -e instructions:u -t`)
 * and its CPU time (/proc), each divided by the pings answered. A loaded
 * machine changes the wall-clock rate, not the work per frame.
 *
 * It starts the gateway as the crosscheck does (with the store off unless
 * --store default: a ping never touches it), drives it with the Go client
 * (bench/independent/wsload.go) and reads the counters around the run.
 *
 * Usage: node dist/bench/independent/frame_cost.js [--conns 50] [--duration 10] [--store none|default] [--wsload PATH]
 */
import { execFileSync, spawn } from 'node:child_process';
import { scriptArgv } from '../common/args.js';
import { threadCpuSeconds } from '../common/proc_cpu.js';
import { startGatewayProcess } from '../compare/processes.js';
import { goBinary } from './go_build.js';

const USAGE = 'usage: node dist/bench/independent/frame_cost.js [--conns 50] [--duration 10] [--store none|pglite] [--wsload PATH]';
const argv = scriptArgv('frame_cost', USAGE, { conns: { type: 'string' }, duration: { type: 'string' }, store: { type: 'string' }, wsload: { type: 'string' } });
const values = { conns: argv.conns ?? '50', duration: argv.duration ?? '10', store: argv.store ?? 'none', wsload: argv.wsload };
const conns = Number(values.conns);
const durationS = Number(values.duration);
if (!Number.isInteger(conns) || conns < 1 || !(durationS > 0)) {
  process.stderr.write('frame_cost: --conns must be a positive integer, --duration seconds\n');
  process.exit(2);
}


const bin = goBinary('wsload', values.wsload);
const gw = await startGatewayProcess({ env: values.store === 'none' ? { TROUPE_STORE: 'none' } : {} });
try {
  const base = [`-url=ws://127.0.0.1:${gw.port}/ws`, `-token=${gw.token}`, `-conns=${conns}`, '-warmup=0s', '-scenario=ping'];
  // Warm up (JIT, sessions) before counting.
  execFileSync(bin, [...base, '-duration=3s'], { encoding: 'utf8' });
  const perf = spawn('perf', ['stat', '-x', ',', '-e', 'instructions:u', '-t', String(gw.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let perfOut = '';
  perf.stderr.on('data', (d: Buffer) => (perfOut += d.toString()));
  await new Promise((r) => setTimeout(r, 200));
  const cpuBefore = threadCpuSeconds(gw.pid, gw.pid) ?? NaN;
  const r = JSON.parse(execFileSync(bin, [...base, `-duration=${durationS}s`], {
    encoding: 'utf8', timeout: (durationS + 60) * 1000,
  })) as { completed: number; perSecond: number; errors: number };
  const cpu = (threadCpuSeconds(gw.pid, gw.pid) ?? NaN) - cpuBefore;
  perf.kill('SIGINT');
  await new Promise((r) => perf.once('close', r));
  const instructions = Number(/^(\d+),/m.exec(perfOut)?.[1] ?? NaN);
  const pings = r.completed;
  const out = {
    conns, durationS, store: values.store, pings, perSecond: Math.round(r.perSecond), errors: r.errors,
    mainCpuUsPerPing: Number(((cpu * 1e6) / pings).toFixed(2)),
    mainInstructionsPerPing: Math.round(instructions / pings),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  await gw.stop();
}
