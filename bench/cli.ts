/**
 * `troupe bench <ws|http|compare|runtime>`: parses flags, runs, prints the
 * summary table, and writes `--json` / `--report` outputs.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { parseArgv, type ArgvSpec } from '../gateway/argv.js';
import { Args, booleans, strings } from './common/args.js';
import { BenchError } from './common/target.js';
import type { BenchPlatformName } from './channel/platform.js';
import type { BenchResult, CompareResult } from './report/result.js';
import { SCENARIOS, type Scenario } from './ws/options.js';
import type { TracingProvider } from './tracing/index.js';

/**
 * The load clients only benchmarks use are devDependencies: an installed gateway does
 * not pull them in. Each benchmark is imported when it runs, and a missing client is
 * named with the command that installs it.
 */
const BENCH_ONLY = ['autocannon', 'hdr-histogram-js'] as const;

async function load<T>(command: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    const missing = BENCH_ONLY.filter((p) => typeof e.message === 'string' && e.message.includes(`'${p}'`));
    if (typeof e.code !== 'string' || !e.code.endsWith('MODULE_NOT_FOUND') || missing.length === 0) throw err;
    const dev = (createRequire(import.meta.url)('../../package.json') as { devDependencies?: Record<string, string> }).devDependencies ?? {};
    const install = BENCH_ONLY.map((p) => `${p}@${dev[p] ?? 'latest'}`).join(' ');
    throw new BenchError('UNAVAILABLE', `troupe bench ${command} needs ${missing.join(' and ')}, which an installed gateway does not include: npm install ${install}`);
  }
}

export const BENCH_USAGE = `usage: troupe bench <ws|http|compare|proxy|runtime|limits|memory|channel|teams|tracing|start> [options]   (see docs/bench.md)

  ws       --url ws://127.0.0.1:8787/ws --conns N --duration 10s --warmup 2s --scenario idle|ping|chat
           [--rate R] [--ramp C/s] [--payload BYTES] [--token T] [--agent ID] [--procs N] [--drain 10s]
           [--soak --leak-threshold MB] [--fault worker-kill [--fault-at SEC]] [--echo] [--connect-timeout 10s]
  http     --url http://127.0.0.1:8787 --conns N --duration 10s --warmup 2s [--stream] [--rate R]
           [--payload BYTES] [--token T] [--model ID] [--path /v1/chat/completions] [--timeout 30] [--soak]
  compare  [--conns 200] [--duration 10s] [--warmup 2s] [--only ws|http]
  proxy    [--conns 50] [--duration 10s] [--warmup 2s] [--rate 1000] [--workers N] [--transport lean|sdk] [--store pglite|postgres|none] [--cpu-prof DIR]
  runtime  [--quick]
  limits   [--duration 5s] [--concurrency 64] [--keys 10000] [--redis redis://127.0.0.1:6379]
  memory   [--memories 100000] [--queries 200] [--dimensions 256] [--max-insert 15m]
  channel  --platform telegram|slack|whatsapp [--conns 50] [--duration 10s] [--warmup 2s] [--rate R] [--drain 10s] [--no-ws]
           [--harness node|go] [--fake uws|node] [--cpu-prof DIR]
  teams    [--tasks 100] [--members 4] [--workers 2] [--fault worker-kill [--kill-every 1s] [--max-kills 10]]
           [--timeout 120s] [--tokens 16] [--latency 5]
  tracing  [--conns 50] [--duration 10s] [--warmup 2s] [--rounds 2] [--store pglite|none] [--provider openai|simulated]
  start    [--runs 3] [--store pglite|postgres|none] [--idle 3s] [--workers N] [--timeout 120s]
  ws, http: [--metrics-url URL | --no-metrics]    every command: [--json FILE|-] [--report out.html]`;

/** What each command accepts (names without `--`); every command also takes --json and --report. */
const LOAD = { ...strings('duration', 'warmup', 'rate', 'payload', 'token', 'metrics-url', 'leak-threshold'), ...booleans('no-metrics', 'soak') };
const OPTIONS: Record<string, ArgvSpec> = {
  runtime: booleans('quick'),
  start: strings('runs', 'store', 'idle', 'timeout', 'workers'),
  limits: strings('duration', 'concurrency', 'keys', 'redis'),
  memory: strings('memories', 'queries', 'dimensions', 'max-insert'),
  teams: strings('tasks', 'members', 'workers', 'fault', 'kill-every', 'max-kills', 'timeout', 'tokens', 'latency'),
  tracing: strings('conns', 'duration', 'warmup', 'rounds', 'store', 'provider'),
  ws: {
    ...LOAD, ...strings('url', 'conns', 'scenario', 'ramp', 'agent', 'procs', 'drain', 'connect-timeout', 'fault', 'fault-at'), ...booleans('echo'),
  },
  http: { ...LOAD, ...strings('url', 'path', 'conns', 'model', 'timeout'), ...booleans('stream') },
  channel: { ...strings('platform', 'conns', 'duration', 'warmup', 'rate', 'drain', 'harness', 'fake', 'cpu-prof'), ...booleans('no-ws') },
  compare: strings('conns', 'duration', 'warmup', 'only'),
  proxy: strings('conns', 'duration', 'warmup', 'rate', 'workers', 'transport', 'store', 'cpu-prof'),
};
const OUTPUTS = strings('json', 'report');

function common(a: Args) {
  return {
    durationMs: a.durationMs('--duration', 10_000),
    warmupMs: a.durationMs('--warmup', 2_000),
    rate: a.num('--rate', 0, 0, 10_000_000),
    payload: a.int('--payload', 0, 0, 256 * 1024),
    token: a.str('--token') ?? process.env.TROUPE_TOKEN,
    metricsUrl: a.has('--no-metrics') ? '' : a.str('--metrics-url'),
    soak: a.has('--soak'),
    leakThresholdBytes: a.num('--leak-threshold', 50, 0, 1_000_000) * 1024 * 1024,
  };
}

async function emit(doc: BenchResult | CompareResult, a: Args, write: (s: string) => void): Promise<void> {
  const [{ compareText, summaryText }, { renderHtml }] = await Promise.all([import('./report/table.js'), import('./report/html.js')]);
  const json = a.str('--json');
  const summary = doc.kind === 'compare' ? compareText(doc) : summaryText(doc);
  // with JSON on stdout the table goes to stderr, so stdout stays parseable
  if (json === '-') process.stderr.write(summary + '\n');
  else write(summary);
  if (json === '-') write(JSON.stringify(doc, null, 2));
  else if (json !== undefined) writeFileSync(json, JSON.stringify(doc, null, 2) + '\n');
  const report = a.str('--report');
  if (report !== undefined) writeFileSync(report, renderHtml(doc));
}

export async function runBenchCommand(argv: readonly string[], write: (s: string) => void): Promise<void> {
  const [kind, ...rest] = argv;
  const options = kind !== undefined && Object.hasOwn(OPTIONS, kind) ? OPTIONS[kind] : undefined;
  if (options === undefined) {
    throw new BenchError('INVALID_REQUEST', `unknown benchmark "${kind ?? ''}" (known: ${Object.keys(OPTIONS).join(', ')})\n${BENCH_USAGE}`);
  }
  const a = new Args(parseArgv(rest, { ...OUTPUTS, ...options }).values);
  switch (kind) {
    case 'runtime': {
      const quick = a.has('--quick');
      const { runRuntimeBench } = await load('runtime', () => import('./runtime/index.js'));
      write(JSON.stringify(await runRuntimeBench({ quick }), null, 2));
      return;
    }
    case 'start': {
      const store = a.str('--store') ?? 'pglite';
      if (store !== 'pglite' && store !== 'postgres' && store !== 'none') throw new BenchError('INVALID_REQUEST', '--store must be pglite, postgres or none');
      const o = {
        runs: a.int('--runs', 3, 1, 100),
        store,
        idleMs: a.durationMs('--idle', 3_000),
        timeoutMs: a.durationMs('--timeout', 120_000, 3_600_000),
        workers: a.str('--workers') === undefined ? undefined : a.int('--workers', 2, 0, 256),
      } as const;
      const { runStartBench } = await load('start', () => import('./start/run.js'));
      const r = await runStartBench(o, (s) => process.stderr.write(s + '\n'));
      const json = a.str('--json');
      if (json === '-') write(JSON.stringify(r, null, 2));
      else {
        write(`start (${r.store}): fresh data dir ready ${r.summary.fresh.readyMsMedian} ms, RSS ${r.summary.fresh.rssMBMedian} MB; `
          + `existing ready ${r.summary.existing.readyMsMedian} ms, RSS ${r.summary.existing.rssMBMedian} MB (medians of ${o.runs})`);
        if (json !== undefined) writeFileSync(json, JSON.stringify(r, null, 2) + '\n');
      }
      return;
    }
    case 'limits': {
      const o = {
        durationMs: a.durationMs('--duration', 5_000),
        concurrency: a.int('--concurrency', 64, 1, 10_000),
        keys: a.int('--keys', 10_000, 1, 10_000_000),
        redisUrl: a.str('--redis') ?? process.env.REDIS_URL,
      };
      const { runLimitsBench } = await load('limits', () => import('./limits/index.js'));
      write(JSON.stringify(await runLimitsBench(o), null, 2));
      return;
    }
    case 'memory': {
      const o = {
        memories: a.int('--memories', 100_000, 100, 10_000_000),
        queries: a.int('--queries', 200, 1, 100_000),
        dimensions: a.int('--dimensions', 256, 8, 2000),
        maxInsertMs: a.durationMs('--max-insert', 15 * 60_000, 24 * 3_600_000),
        log: (line: string) => process.stderr.write(`${line}\n`),
      };
      const json = a.str('--json');
      const { runMemoryBench } = await load('memory', () => import('./memory/index.js'));
      const result = await runMemoryBench(o);
      if (json !== undefined && json !== '-') writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
      write(JSON.stringify(result, null, 2));
      return;
    }
    case 'teams': {
      const { runTeamsBench, TEAMS_BENCH_DEFAULTS: d } = await load('teams', () => import('./teams/index.js'));
      const fault = a.str('--fault');
      if (fault !== undefined && fault !== 'worker-kill') throw new BenchError('INVALID_REQUEST', `--fault must be worker-kill (got "${fault}")`);
      const o = {
        tasks: a.int('--tasks', d.tasks, 1, 10_000),
        members: a.int('--members', d.members, 1, 64),
        workers: a.int('--workers', d.workers, 1, 64),
        ...(fault === undefined ? {} : { fault: 'worker-kill' as const }),
        killEveryMs: a.durationMs('--kill-every', d.killEveryMs),
        maxKills: a.int('--max-kills', d.maxKills, 0, 1_000),
        timeoutMs: a.durationMs('--timeout', d.timeoutMs),
        tokens: a.int('--tokens', d.tokens, 0, 100_000),
        latencyMs: a.int('--latency', d.latencyMs, 0, 10_000),
      };
      write(JSON.stringify(await runTeamsBench(o), null, 2));
      return;
    }
    case 'tracing': {
      const { runTracingBench, TRACING_BENCH_DEFAULTS: d } = await load('tracing', () => import('./tracing/index.js'));
      const store = a.str('--store');
      if (store !== undefined && store !== 'pglite' && store !== 'none') throw new BenchError('INVALID_REQUEST', `--store must be pglite or none (got "${store}")`);
      const provider = a.str('--provider');
      if (provider !== undefined && provider !== 'openai' && provider !== 'simulated') {
        throw new BenchError('INVALID_REQUEST', `--provider must be openai or simulated (got "${provider}")`);
      }
      const providerOption = provider === undefined ? {} : { provider: provider as TracingProvider };
      const o = {
        conns: a.int('--conns', d.conns, 1, 100_000),
        durationMs: a.durationMs('--duration', d.durationMs),
        warmupMs: a.durationMs('--warmup', d.warmupMs),
        rounds: a.int('--rounds', d.rounds, 1, 20),
        ...(store === undefined ? {} : { store }),
        ...providerOption,
      };
      const json = a.str('--json');
      const result = await runTracingBench(o, (line) => process.stderr.write(`${line}\n`));
      if (json !== undefined && json !== '-') writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
      write(JSON.stringify(result, null, 2));
      return;
    }
    case 'ws': {
      const scenario = (a.str('--scenario') ?? 'ping') as Scenario;
      if (!SCENARIOS.includes(scenario)) throw new BenchError('INVALID_REQUEST', `--scenario must be one of ${SCENARIOS.join(', ')}`);
      const fault = a.str('--fault');
      if (fault !== undefined && fault !== 'worker-kill') throw new BenchError('INVALID_REQUEST', '--fault must be worker-kill');
      const procs = a.str('--procs') === undefined ? undefined : a.int('--procs', 1, 1, 64);
      const o = {
        ...common(a),
        url: a.str('--url') ?? 'ws://127.0.0.1:8787/ws',
        conns: a.int('--conns', 100, 1, 1_000_000),
        scenario,
        rampPerSec: a.num('--ramp', 0, 0, 1_000_000),
        agent: a.str('--agent'),
        echo: a.has('--echo'),
        procs,
        drainMs: a.durationMs('--drain', 10_000, 600_000),
        connectTimeoutMs: a.durationMs('--connect-timeout', 10_000, 600_000),
        fault,
        faultAtSec: a.str('--fault-at') === undefined ? undefined : a.num('--fault-at', 0, 0, 86_400),
      } as const;
      const { runWsBench } = await load('ws', () => import('./ws/run.js'));
      await emit(await runWsBench(o), a, write);
      return;
    }
    case 'http': {
      const o = {
        ...common(a),
        url: a.str('--url') ?? 'http://127.0.0.1:8787',
        path: a.str('--path') ?? '/v1/chat/completions',
        conns: a.int('--conns', 50, 1, 100_000),
        stream: a.has('--stream'),
        model: a.str('--model') ?? 'assistant',
        timeoutSec: a.int('--timeout', 30, 1, 3_600),
      };
      const { runHttpBench } = await load('http', () => import('./http/run.js'));
      await emit(await runHttpBench(o), a, write);
      return;
    }
    case 'channel': {
      const [{ BENCH_PLATFORMS }, { channelSummary, runChannelBench }] = await load('channel', () => Promise.all([import('./channel/platform.js'), import('./channel/run.js')]));
      const platform = a.str('--platform') ?? '';
      if (!BENCH_PLATFORMS.includes(platform as BenchPlatformName)) {
        throw new BenchError('INVALID_REQUEST', `--platform must be one of ${BENCH_PLATFORMS.join(', ')}`);
      }
      const fake = a.str('--fake') ?? 'uws';
      if (fake !== 'uws' && fake !== 'node') throw new BenchError('INVALID_REQUEST', '--fake must be uws or node');
      const harness = a.str('--harness') ?? 'node';
      if (harness !== 'node' && harness !== 'go') throw new BenchError('INVALID_REQUEST', '--harness must be node or go');
      const o = {
        platform: platform as BenchPlatformName,
        harness: harness as 'node' | 'go',
        fake: fake as 'uws' | 'node',
        conns: a.int('--conns', 50, 1, 10_000),
        durationMs: a.durationMs('--duration', 10_000),
        warmupMs: a.durationMs('--warmup', 2_000),
        rate: a.num('--rate', 0, 0, 100_000),
        drainMs: a.durationMs('--drain', 10_000, 600_000),
        ws: !a.has('--no-ws'),
        ...(a.str('--cpu-prof') === undefined ? {} : { cpuProfDir: resolve(a.str('--cpu-prof') ?? '') }),
      };
      if (o.harness === 'go' && o.rate > 0) throw new BenchError('INVALID_REQUEST', '--harness go runs closed loop only: drop --rate, or use --harness node');
      const r = await runChannelBench(o, (line) => process.stderr.write(line + '\n'));
      const json = a.str('--json');
      if (json === '-') write(JSON.stringify(r, null, 2));
      else {
        write(channelSummary(r));
        if (json !== undefined) writeFileSync(json, JSON.stringify(r, null, 2) + '\n');
      }
      return;
    }
    case 'compare': {
      const only = a.str('--only');
      if (only !== undefined && only !== 'ws' && only !== 'http') throw new BenchError('INVALID_REQUEST', '--only must be ws or http');
      const o = {
        conns: a.int('--conns', 200, 1, 100_000),
        durationMs: a.durationMs('--duration', 10_000),
        warmupMs: a.durationMs('--warmup', 2_000),
        only: only as 'ws' | 'http' | undefined,
      };
      const { runCompare } = await load('compare', () => import('./compare/run.js'));
      await emit(await runCompare(o, (line) => process.stderr.write(line + '\n')), a, write);
      return;
    }
    case 'proxy': {
      const cpuProf = a.str('--cpu-prof');
      const workers = a.str('--workers') === undefined ? undefined : a.int('--workers', 1, 1, 256);
      const transport = (a.str('--transport') ?? 'lean') as 'lean' | 'sdk';
      if (transport !== 'lean' && transport !== 'sdk') throw new BenchError('INVALID_REQUEST', '--transport must be lean or sdk');
      const store = a.str('--store') ?? 'pglite';
      if (store !== 'pglite' && store !== 'postgres' && store !== 'none') throw new BenchError('INVALID_REQUEST', `--store must be pglite, postgres or none (got "${store}")`);
      const o = {
        transport,
        store: store as 'pglite' | 'postgres' | 'none',
        conns: a.int('--conns', 50, 1, 100_000),
        durationMs: a.durationMs('--duration', 10_000),
        warmupMs: a.durationMs('--warmup', 2_000),
        rate: a.num('--rate', 1_000, 0, 10_000_000),
        workers,
        cpuProfDir: cpuProf === undefined ? undefined : resolve(cpuProf),
      };
      const { runProxyBench } = await load('proxy', () => import('./proxy/run.js'));
      await emit(await runProxyBench(o, (line) => process.stderr.write(line + '\n')), a, write);
      return;
    }
  }
}
