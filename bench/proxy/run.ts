/**
 * `troupe bench proxy`: what Troupe adds in front of a real provider adapter.
 * Starts the fake OpenAI upstream (its own process) and Troupe (a child
 * `troupe start`, on the default embedded store unless `--store` says otherwise) with one agent whose chain goes through the
 * worker's provider actors and the `openai` SDK to that upstream. Then drives
 * both with the same `bench http` client and settings, back to back in the
 * same run: JSON and streaming, closed loop (autocannon), then open loop at
 * `--rate` (the paced client, bench/http/paced.ts). Each pair gives a ratio:
 * throughput and the latency Troupe adds (p50, p99).
 *
 *   client ──► Troupe ──► session ──► agent ──► provider actor ──► upstream
 *   client ────────────────────────────────────────────────────────► upstream
 */
import { runHttpBench } from '../http/run.js';
import { RESULT_SCHEMA, type BenchResult, type CompareRatio, type CompareResult } from '../report/result.js';
import { ratio } from '../compare/run.js';
import { startFakeUpstream, startGatewayProcess, type Child } from '../compare/processes.js';

export interface ProxyOptions {
  conns: number;
  durationMs: number;
  warmupMs: number;
  /** Requests/s of the open-loop pair; 0 = closed loop only. */
  rate: number;
  /** The OpenAI adapter's transport (providers/openai_lean.ts or the SDK); default lean. */
  transport?: 'lean' | 'sdk';
  /** Troupe's actor workers; undefined = the gateway's default (one per core). */
  workers?: number;
  /** Run the gateway with `--cpu-prof` and write its profiles (every thread's) here. */
  cpuProfDir?: string;
  /** TROUPE_STORE for the gateway: pglite (the default a user runs), postgres (needs DATABASE_URL) or none. */
  store?: 'pglite' | 'postgres' | 'none';
}

export const PROXY_AGENT = 'proxy';
/** The model the agent asks the upstream for; the fake answers any. */
const UPSTREAM_MODEL = 'fake-model';
const PROVIDER_ID = 'upstream';

/**
 * The gateway's configuration: the agent's chain goes through the provider
 * actors. Their admission limits are set out of the way (the default
 * concurrency of 16 per worker would queue 50 connections): this measures the
 * path's cost, not a limit's.
 */
export function proxyConfig(upstreamPort: number, transport: 'lean' | 'sdk' = 'lean'): object {
  const upstream = { kind: 'openai', apiKey: 'sk-bench', baseURL: `http://127.0.0.1:${upstreamPort}/v1`, transport };
  return {
    providers: [{ id: PROVIDER_ID, config: upstream, limits: { concurrency: 4_096, maxQueue: 100_000 } }],
    agents: [{ id: PROXY_AGENT, model: UPSTREAM_MODEL, provider: upstream, chain: [{ providerId: PROVIDER_ID, model: UPSTREAM_MODEL }] }],
  };
}

export async function runProxyBench(o: ProxyOptions, log: (line: string) => void): Promise<CompareResult> {
  const startedAt = new Date().toISOString();
  const results: BenchResult[] = [];
  const ratios: CompareRatio[] = [];
  const children: Child[] = [];
  try {
    log('starting the fake OpenAI upstream…');
    const upstream = await startFakeUpstream();
    children.push(upstream);
    log(`starting troupe (store ${o.store ?? 'pglite'})…`);
    const gw = await startGatewayProcess({
      config: proxyConfig(upstream.port, o.transport),
      env: { TROUPE_STORE: o.store ?? 'pglite', ...(o.workers === undefined ? {} : { TROUPE_WORKERS: String(o.workers) }) },
      nodeArgs: o.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`],
    });
    children.push(gw);
    const loads = [{ rate: 0, stream: false }, { rate: 0, stream: true }];
    if (o.rate > 0) loads.push({ rate: o.rate, stream: false }, { rate: o.rate, stream: true });
    for (const { rate, stream } of loads) {
      const test = `proxy ${stream ? 'stream' : 'json'} ${rate > 0 ? `open ${rate}/s` : 'closed'}`;
      const http = (url: string, model: string, token?: string) => runHttpBench({
        url, path: '/v1/chat/completions', conns: o.conns, durationMs: o.durationMs, warmupMs: o.warmupMs, rate, stream,
        payload: 0, model, token, timeoutSec: 30, soak: false, leakThresholdBytes: 0, ...(token === undefined ? { metricsUrl: '' } : {}),
      });
      log(`${test}: troupe`);
      const troupe = await http(`http://127.0.0.1:${gw.port}`, PROXY_AGENT, gw.token);
      troupe.name = `troupe ${test}`;
      results.push(troupe);
      log(`${test}: upstream direct`);
      const direct = await http(`http://127.0.0.1:${upstream.port}`, UPSTREAM_MODEL);
      direct.name = `upstream ${test}`;
      results.push(direct);
      ratios.push(ratio(test, troupe, direct, 'openai-upstream'));
    }
    return { schema: RESULT_SCHEMA, kind: 'compare', startedAt, results, ratios };
  } finally {
    // the gateway first: it writes its CPU profiles on a clean exit
    for (const c of children.reverse()) await c.stop();
  }
}
