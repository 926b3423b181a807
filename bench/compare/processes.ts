/**
 * Child processes for `compare`: the gateway under test (started by the
 * tool itself with generous limits and a 16-token simulated agent) and the
 * reference servers. Each prints how to reach it; we wait for that, bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signToken } from '../../security/jwt.js';
import { BenchError } from '../common/target.js';

export interface Child {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;
const dist = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));

/** Spawns node with `args` and resolves once a stdout line yields a port. */
function spawnForPort(args: string[], env: NodeJS.ProcessEnv, portOf: (line: string) => number | undefined, cleanup: () => void = () => undefined): Promise<Child> {
  const child: ChildProcess = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const name = args.find((a) => !a.startsWith('-')) ?? 'node';
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 4_000) stderr += String(d);
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    }
    cleanup();
  };
  return new Promise<Child>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new BenchError('TIMEOUT', `${name} did not start within ${START_TIMEOUT_MS} ms: ${stderr}`));
    }, START_TIMEOUT_MS);
    child.stdout?.on('data', (d: Buffer) => {
      buf += String(d);
      for (const line of buf.split('\n')) {
        const port = portOf(line);
        if (port !== undefined) {
          clearTimeout(timer);
          child.stdout?.removeAllListeners('data');
          child.stdout?.resume();
          resolve({ port, pid: child.pid ?? 0, stop });
          return;
        }
      }
      if (buf.length > 64_000) buf = buf.slice(-4_000);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new BenchError('UNAVAILABLE', `${name} exited (${code}) before listening: ${stderr}`));
    });
  });
}

const jsonPort = (line: string): number | undefined => {
  try {
    const p = (JSON.parse(line) as { port?: unknown }).port;
    return typeof p === 'number' ? p : undefined;
  } catch {
    return undefined;
  }
};

export function startReference(kind: 'uws-echo' | 'ws-echo' | 'uws-bytes', extra: string[] = []): Promise<Child> {
  return spawnForPort([dist('./reference_server.js'), kind, ...extra], process.env, jsonPort);
}

/** The fake OpenAI upstream from test/fakes (a direct upstream for the HTTP path). */
export function startFakeUpstream(): Promise<Child> {
  return spawnForPort([dist('../../test/fakes/openai_upstream.js'), '--port', '0'], process.env, jsonPort);
}

export const BENCH_AGENT = 'bench16';

/** The gateway configuration `compare` runs: one 16-token, 0 ms simulated agent. */
export const BENCH_CONFIG = {
  agents: [{ id: BENCH_AGENT, model: 'simulated-1', provider: { kind: 'simulated', tokens: 16, latencyMs: 0 } }],
};

export interface GatewayChild extends Child {
  token: string;
}

export interface GatewayProcessOptions {
  /** Environment on top of the generous defaults. */
  readonly env?: Record<string, string>;
  /** Written to the child's TROUPE_CONFIG file. Default BENCH_CONFIG. */
  readonly config?: object;
  /** Node flags for the child, e.g. `--cpu-prof` (worker threads inherit them). */
  readonly nodeArgs?: readonly string[];
}

/** `troupe start` in a child with a temp data dir, generous limits and (by default) a 16-token, 0 ms agent. */
export async function startGatewayProcess(o: GatewayProcessOptions = {}): Promise<GatewayChild> {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-compare-'));
  const secret = `bench-${process.pid}-${Date.now()}-secret-long-enough`;
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(o.config ?? BENCH_CONFIG));
  const env = {
    ...process.env,
    TROUPE_PORT: '0', TROUPE_HOST: '127.0.0.1', TROUPE_DATA_DIR: join(dir, 'data'), TROUPE_JWT_SECRET: secret, TROUPE_CONFIG: configFile,
    TROUPE_CHAT_RATE: '1000000000', TROUPE_CHAT_BURST: '1000000000', TROUPE_CONNECT_RATE: '1000000000', TROUPE_CONNECT_BURST: '1000000000',
    TROUPE_MAX_CONNECTIONS: '1000000', ...o.env,
  };
  const child = await spawnForPort([...(o.nodeArgs ?? []), dist('../../gateway/cli.js'), 'start'], env, (line) => {
    const m = /listening on http:\/\/[^:]+:(\d+)/.exec(line);
    return m === null ? undefined : Number(m[1]);
  }, () => rmSync(dir, { recursive: true, force: true }));
  const token = await signToken({ secret, tenant: 'bench', user: 'bench', scopes: ['chat', 'platform'], ttlSec: 86_400 });
  return { ...child, token };
}
