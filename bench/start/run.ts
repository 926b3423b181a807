/**
 * `troupe bench start`: boots the gateway N times, each in its own process,
 * and reports the time from spawn to the first `/ready` 200 and the idle RSS
 * of the whole gateway process (main thread and every worker share one
 * process, so /proc/<pid>/status VmRSS counts them all), `idleMs` after ready.
 *
 *   for each run: spawn `troupe start` ─► poll /ready ─► wait idleMs ─► read VmRSS ─► SIGTERM
 *   "fresh" runs get an empty data dir; "existing" runs reuse the one the first run made.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StartBenchOptions {
  runs: number;
  /** TROUPE_STORE for the gateway: pglite (default), postgres (needs DATABASE_URL) or none. */
  store: 'pglite' | 'postgres' | 'none';
  idleMs: number;
  workers?: number;
  /** Longest wait for one boot. */
  timeoutMs: number;
}

export interface StartSample { listenMs: number; readyMs: number; rssMB: number }

export interface StartBenchResult {
  kind: 'start';
  store: StartBenchOptions['store'];
  fresh: StartSample[];
  existing: StartSample[];
  summary: { fresh: { readyMsMedian: number; rssMBMedian: number }; existing: { readyMsMedian: number; rssMBMedian: number } };
}

const CLI = fileURLToPath(new URL('../../gateway/cli.js', import.meta.url));

const median = (xs: number[]): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Math.round(Number(m[1]) / 1024);
}

async function bootOnce(dataDir: string, o: StartBenchOptions): Promise<StartSample> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, 'start'], {
    env: {
      ...process.env, TROUPE_PORT: '0', TROUPE_DATA_DIR: dataDir, TROUPE_STORE: o.store,
      ...(o.workers === undefined ? {} : { TROUPE_WORKERS: String(o.workers) }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += String(d); });
    // The banner is printed once startGateway resolves; /ready may answer earlier, so poll the port as soon as it is known.
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner after ${o.timeoutMs} ms: ${err.slice(-500)}`)), o.timeoutMs);
      child.stdout.on('data', (d: Buffer) => {
        out += String(d);
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', (code) => reject(new Error(`gateway exited (${code}): ${err.slice(-500)}`)));
    });
    const listenMs = performance.now() - t0;
    let readyMs = 0;
    for (const deadline = t0 + o.timeoutMs; performance.now() < deadline;) {
      const status = await fetch(`${url}/ready`).then((r) => r.status, () => 0);
      if (status === 200) {
        readyMs = performance.now() - t0;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    if (readyMs === 0) throw new Error(`/ready never answered 200 within ${o.timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, o.idleMs));
    return { listenMs: Math.round(listenMs), readyMs: Math.round(readyMs), rssMB: rssMB(child.pid as number) };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

export async function runStartBench(o: StartBenchOptions, log: (s: string) => void = () => undefined): Promise<StartBenchResult> {
  const fresh: StartSample[] = [];
  const existing: StartSample[] = [];
  const dirs: string[] = [];
  try {
    for (let i = 0; i < o.runs; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'troupe-bench-start-'));
      dirs.push(dir);
      const s = await bootOnce(dir, o);
      log(`fresh    #${i + 1}: ready ${s.readyMs} ms, RSS ${s.rssMB} MB`);
      fresh.push(s);
    }
    for (let i = 0; i < o.runs; i++) {
      const s = await bootOnce(dirs[0], o);
      log(`existing #${i + 1}: ready ${s.readyMs} ms, RSS ${s.rssMB} MB`);
      existing.push(s);
    }
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  const sum = (xs: StartSample[]) => ({ readyMsMedian: median(xs.map((x) => x.readyMs)), rssMBMedian: median(xs.map((x) => x.rssMB)) });
  return { kind: 'start', store: o.store, fresh, existing, summary: { fresh: sum(fresh), existing: sum(existing) } };
}
