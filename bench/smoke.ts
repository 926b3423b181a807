/**
 * `node dist/bench/smoke.js`: tiny versions of every benchmark, for CI. It
 * asserts only that each completes with sane fields (valid JSON schema,
 * answers verified, nothing lost), never how fast anything is.
 * Exit code 0 = all passed, 1 = something failed (listed on stderr).
 */
import { BENCH_PLATFORMS } from './channel/platform.js';
import { runChannelBench } from './channel/run.js';
import { runCompare } from './compare/run.js';
import { BENCH_AGENT, startGatewayProcess } from './compare/processes.js';
import { runHttpBench } from './http/run.js';
import { runProxyBench } from './proxy/run.js';
import { validateResult, type BenchResult, type CompareResult } from './report/result.js';
import { runLimitsBench } from './limits/index.js';
import { runMemoryBench } from './memory/index.js';
import { runRuntimeBench } from './runtime/index.js';
import { runTeamsBench, TEAMS_BENCH_DEFAULTS } from './teams/index.js';
import { runTracingBench } from './tracing/index.js';
import { runStartBench } from './start/run.js';
import type { WsBenchOptions } from './ws/options.js';
import { runWsBench } from './ws/run.js';

const failures: string[] = [];
const log = (s: string) => process.stderr.write(s + '\n');

function check(name: string, doc: BenchResult | CompareResult, extra: (string | false)[] = []): void {
  const problems = [...validateResult(doc), ...extra.filter((x): x is string => x !== false)];
  if (doc.kind !== 'compare') {
    if (doc.requests.lost > 0) problems.push(`${doc.requests.lost} requests lost`);
    if (doc.requests.failed > 0) problems.push(`${doc.requests.failed} requests failed: ${JSON.stringify(doc.errors)}`);
    if (doc.connections.failed > 0) problems.push(`${doc.connections.failed} connections failed: ${JSON.stringify(doc.errors)}`);
  }
  log(`${problems.length === 0 ? 'ok  ' : 'FAIL'} ${name}${problems.length === 0 ? '' : `: ${problems.join('; ')}`}`);
  if (problems.length > 0) failures.push(name);
}

async function step(name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    log(`FAIL ${name}: ${(err as Error).message}`);
    failures.push(name);
  }
}

const gw = await startGatewayProcess({ env: { TROUPE_ENABLE_FAULTS: '1', TROUPE_WORKERS: '2' } });
try {
  const ws = (patch: Partial<WsBenchOptions>) => runWsBench({
    url: `ws://127.0.0.1:${gw.port}/ws`, token: gw.token, conns: 5, durationMs: 1_000, warmupMs: 300, scenario: 'ping', rate: 0,
    rampPerSec: 0, payload: 0, echo: false, drainMs: 10_000, connectTimeoutMs: 10_000, soak: false, leakThresholdBytes: 50 * 2 ** 20,
    agent: BENCH_AGENT, ...patch,
  });
  await step('ws idle', async () => {
    const r = await ws({ scenario: 'idle', rampPerSec: 50, durationMs: 1_500 });
    check('ws idle', r, [r.connections.opened !== 5 && 'not every connection opened', r.server.rssPerConnBytes === undefined && 'no RSS per connection']);
  });
  await step('ws ping closed', async () => {
    const r = await ws({});
    check('ws ping closed', r, [r.requests.completed === 0 && 'nothing completed', r.server.rssPeakBytes === undefined && 'no server RSS']);
  });
  await step('ws ping open', async () => {
    const r = await ws({ rate: 100 });
    check('ws ping open', r, [r.requests.completed === 0 && 'nothing completed']);
  });
  await step('ws chat soak', async () => {
    const r = await ws({ scenario: 'chat', soak: true, payload: 32 });
    check('ws chat soak', r, [r.ttft === undefined && 'no time to first token', r.soak === undefined && 'no soak verdict']);
  });
  await step('ws chat procs=2', async () => {
    const r = await ws({ scenario: 'chat', procs: 2 });
    check('ws chat procs=2', r, [r.client.processes !== 2 && 'not two processes']);
  });
  await step('ws chat worker-kill', async () => {
    const r = await ws({ scenario: 'chat', fault: 'worker-kill', durationMs: 2_000 });
    check('ws chat worker-kill', r, [r.fault === undefined && 'no fault report', r.fault?.replacementMs === null && 'replacement did not come up']);
  });
  for (const stream of [false, true]) {
    const name = `http ${stream ? 'stream' : 'json'}`;
    await step(name, async () => {
      const r = await runHttpBench({
        url: `http://127.0.0.1:${gw.port}`, path: '/v1/chat/completions', token: gw.token, conns: 3, durationMs: 1_000, warmupMs: 300,
        rate: 0, stream, payload: 0, model: BENCH_AGENT, timeoutSec: 10, soak: false, leakThresholdBytes: 0,
      });
      check(name, r, [r.requests.completed === 0 && 'nothing completed', stream && r.ttft === undefined && 'no time to first token']);
    });
  }
} finally {
  await gw.stop();
}
await step('compare', async () => {
  const c = await runCompare({ conns: 3, durationMs: 700, warmupMs: 200 }, () => undefined);
  check('compare', c, [c.ratios.length !== 6 && `expected 6 ratios, got ${c.ratios.length}`]);
});
await step('proxy', async () => {
  const p = await runProxyBench({ conns: 2, durationMs: 700, warmupMs: 200, rate: 20, workers: 1 }, () => undefined);
  const idle = p.results.filter((r) => r.requests.completed === 0).map((r) => r.name);
  check('proxy', p, [p.ratios.length !== 4 && `expected 4 ratios, got ${p.ratios.length}`, idle.length > 0 && `nothing completed: ${idle.join(', ')}`]);
});
await step('runtime', async () => {
  const r = await runRuntimeBench({ quick: true, log: () => undefined });
  if (typeof r !== 'object' || r === null) throw new Error('no result');
  log('ok   runtime');
});
await step('start', async () => {
  const r = await runStartBench({ runs: 1, store: 'pglite', idleMs: 200, workers: 1, timeoutMs: 180_000 });
  const s = [...r.fresh, ...r.existing];
  if (s.length !== 2 || s.some((x) => !(x.readyMs > 0) || !(x.rssMB > 0) || x.listenMs > x.readyMs + 1)) throw new Error(`bad samples: ${JSON.stringify(s)}`);
  log('ok   start');
});
await step('limits', async () => {
  const r = await runLimitsBench({ durationMs: 300, concurrency: 8, keys: 100, redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
  if (!(r.results.inProcess.decisionsPerSec > 0)) throw new Error('no in-process decisions');
  if (r.results.redis?.error !== undefined) throw new Error(`redis: ${r.results.redis.error}`);
  log('ok   limits');
});
await step('memory', async () => {
  const r = await runMemoryBench({ memories: 2000, queries: 5, dimensions: 64, maxInsertMs: 120_000 });
  if (r.inserted !== 2000) throw new Error(`inserted ${r.inserted} of 2000`);
  if (r.results.length !== 3 || r.results[2].mode !== 'pgvector-hnsw') throw new Error(`modes: ${r.results.map((x) => x.mode).join(', ')}`);
  log('ok   memory');
});
await step('teams', async () => {
  const r = await runTeamsBench({ ...TEAMS_BENCH_DEFAULTS, tasks: 8, members: 2, workers: 2, fault: 'worker-kill', killEveryMs: 500, maxKills: 2, timeoutMs: 60_000 });
  const { lost, duplicated, stuck, done } = r.counts;
  if (r.runStatus !== 'done' || done !== 8 || lost + duplicated + stuck > 0) throw new Error(`teams: ${JSON.stringify(r.counts)} (${r.runStatus})`);
  log('ok   teams');
});
for (const platform of BENCH_PLATFORMS) {
  await step(`channel ${platform}`, async () => {
    const r = await runChannelBench({ platform, conns: 3, rate: 0, durationMs: 1_500, warmupMs: 2_000, drainMs: 10_000, ws: platform === 'telegram' });
    const c = r.channel;
    const problems = [c.completed === 0 && 'nothing completed', c.lost > 0 && `${c.lost} lost`, c.duplicated > 0 && `${c.duplicated} duplicated`,
      c.rejected > 0 && `${c.rejected} webhooks refused`, platform === 'telegram' && r.ratio === undefined && 'no ratio to ws'].filter((x): x is string => x !== false);
    if (problems.length > 0) throw new Error(problems.join('; '));
    log(`ok   channel ${platform}`);
  });
}
await step('tracing', async () => {
  const r = await runTracingBench({ conns: 4, durationMs: 500, warmupMs: 0, rounds: 1, store: 'none' }, () => undefined);
  if (!(r.offTurnsPerSec > 0 && r.onTurnsPerSec > 0)) throw new Error(`no turns: ${JSON.stringify(r.rounds)}`);
  if (r.rounds.some((x) => x.failed > 0)) throw new Error(`failed turns: ${JSON.stringify(r.rounds)}`);
  if (!(r.spans.exported > 0) || r.collector.requests === 0) throw new Error(`no spans exported: ${JSON.stringify(r.spans)}`);
  if (process.platform === 'linux' && !(r.cpuPerTurn !== undefined && r.cpuPerTurn.offUs > 0 && r.cpuPerTurn.onUs > 0)) {
    throw new Error(`no CPU per turn from /proc: ${JSON.stringify(r.cpuPerTurn)}`);
  }
  log('ok   tracing');
});
log(failures.length === 0 ? 'smoke: all benchmarks completed' : `smoke: ${failures.length} failed: ${failures.join(', ')}`);
process.exit(failures.length === 0 ? 0 : 1);
