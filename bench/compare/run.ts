/**
 * `troupe bench compare`: starts Troupe (a child `troupe start`) and the
 * reference servers, drives each with the same client and settings, and
 * reports Troupe's throughput and latency as ratios to each reference.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchError } from '../common/target.js';
import { runHttpBench } from '../http/run.js';
import { chatBody } from '../http/options.js';
import { RESULT_SCHEMA, type BenchResult, type CompareRatio, type CompareResult } from '../report/result.js';
import { runWsBench } from '../ws/run.js';
import { BENCH_AGENT, startFakeUpstream, startGatewayProcess, startReference, type Child } from './processes.js';

export interface CompareOptions {
  conns: number;
  durationMs: number;
  warmupMs: number;
  only?: 'ws' | 'http';
}

const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;

export function ratio(test: string, subject: BenchResult, reference: BenchResult, refName: string): CompareRatio {
  const div = (a: number, b: number) => (b === 0 ? 0 : round(a / b));
  return {
    test, subject: 'troupe', reference: refName,
    throughput: div(subject.requests.perSec, reference.requests.perSec),
    p50: div(subject.latency.p50, reference.latency.p50),
    p99: div(subject.latency.p99, reference.latency.p99),
    addedP50Ms: round(subject.latency.p50 - reference.latency.p50),
    addedP99Ms: round(subject.latency.p99 - reference.latency.p99),
  };
}

/** Troupe's exact answer bytes, so the raw endpoint serves the same payload. */
async function capture(base: string, token: string, stream: boolean): Promise<{ body: Buffer; contentType: string }> {
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: chatBody({ model: BENCH_AGENT, payload: 0, stream }),
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok) throw new BenchError('UNAVAILABLE', `capturing Troupe's answer failed: HTTP ${res.status}`);
  return { body: Buffer.from(await res.arrayBuffer()), contentType: res.headers.get('content-type') ?? 'application/json' };
}

export async function runCompare(o: CompareOptions, log: (line: string) => void): Promise<CompareResult> {
  const startedAt = new Date().toISOString();
  const results: BenchResult[] = [];
  const ratios: CompareRatio[] = [];
  const children: Child[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'troupe-compare-bytes-'));
  const same = { durationMs: o.durationMs, warmupMs: o.warmupMs, rate: 0, payload: 0, soak: false, leakThresholdBytes: 0 };
  const keep = <C extends Child>(c: C): C => {
    children.push(c);
    return c;
  };
  try {
    log('starting troupe…');
    const gw = keep(await startGatewayProcess());
    if (o.only !== 'http') {
      const ws = (url: string, echo: boolean, token?: string, scenario: 'ping' | 'chat' = 'ping') => runWsBench({
        ...same, url, conns: o.conns, scenario, rampPerSec: 0, echo, token, drainMs: 10_000, connectTimeoutMs: 10_000,
        agent: echo ? undefined : BENCH_AGENT, ...(echo ? { metricsUrl: '' } : {}),
      });
      log('ws ping: troupe');
      const troupe = await ws(`ws://127.0.0.1:${gw.port}/ws`, false, gw.token);
      troupe.name = 'troupe ws ping';
      results.push(troupe);
      for (const kind of ['uws-echo', 'ws-echo'] as const) {
        log(`ws ping: ${kind}`);
        const ref = keep(await startReference(kind));
        const r = await ws(`ws://127.0.0.1:${ref.port}/ws`, true);
        r.name = `${kind} ws echo`;
        results.push(r);
        ratios.push(ratio('ws ping', troupe, r, kind));
        await ref.stop();
      }
      // chat turns have no reference server: reported as a run, without a ratio
      log('ws chat: troupe (16 tokens, 0 ms)');
      const chat = await ws(`ws://127.0.0.1:${gw.port}/ws`, false, gw.token, 'chat');
      chat.name = 'troupe ws chat';
      results.push(chat);
    }
    if (o.only !== 'ws') {
      const upstream = keep(await startFakeUpstream());
      for (const stream of [false, true]) {
        const mode = stream ? 'stream' : 'json';
        const http = (url: string, token?: string, noMetrics = false) => runHttpBench({
          ...same, url, path: '/v1/chat/completions', conns: o.conns, stream, model: BENCH_AGENT, token, timeoutSec: 30,
          ...(noMetrics ? { metricsUrl: '' } : {}),
        });
        log(`http ${mode}: troupe`);
        const troupe = await http(`http://127.0.0.1:${gw.port}`, gw.token);
        troupe.name = `troupe http ${mode}`;
        results.push(troupe);
        const { body, contentType } = await capture(`http://127.0.0.1:${gw.port}`, gw.token, stream);
        const file = join(dir, `${mode}.bytes`);
        writeFileSync(file, body);
        log(`http ${mode}: uws-bytes`);
        const raw = keep(await startReference('uws-bytes', ['--bytes', file, '--content-type', contentType]));
        const r = await http(`http://127.0.0.1:${raw.port}`, undefined, true);
        r.name = `uws-bytes http ${mode}`;
        results.push(r);
        ratios.push(ratio(`http ${mode}`, troupe, r, 'uws-bytes'));
        await raw.stop();
        log(`http ${mode}: fake upstream`);
        const d = await http(`http://127.0.0.1:${upstream.port}`, undefined, true);
        d.name = `upstream http ${mode}`;
        results.push(d);
        ratios.push(ratio(`http ${mode}`, troupe, d, 'openai-upstream'));
      }
    }
    return { schema: RESULT_SCHEMA, kind: 'compare', startedAt, results, ratios };
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}
