// Driving a gateway from a test: a WebSocket that runs RPC steps in order, and the
// `troupe start` child process with the port read from its banner.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

export interface Frame { type: string; id?: string; ok?: boolean; event?: string; payload?: Record<string, unknown>; error?: { code: string; retryable: boolean } }

/** Opens a socket, sends the steps in order, waits for each reply (and a chat.send's final or error event). */
export async function wsSteps(port: number, steps: [string, Record<string, unknown>][], bearer?: string, waitMs = 60_000): Promise<Frame[]> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, bearer === undefined ? {} : { headers: { authorization: `Bearer ${bearer}` } });
  const frames: Frame[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Frame));
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  const replies: Frame[] = [];
  let id = 0;
  for (const [method, params] of steps) {
    const rid = String(++id);
    ws.send(JSON.stringify({ type: 'req', id: rid, method, params }));
    const until = Date.now() + waitMs;
    let res: Frame | undefined;
    while (!(res = frames.find((f) => f.type === 'res' && f.id === rid)) && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    replies.push(res as Frame);
    if (method === 'chat.send' && res?.ok) {
      while (!frames.some((f) => (f.event === 'chat.final' || f.event === 'chat.error') && f.payload?.runId === res?.payload?.runId) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  }
  ws.close();
  return replies;
}

export const CLI = fileURLToPath(new URL('../../gateway/cli.js', import.meta.url));

/** Runs the real `troupe` binary to its end, as an operator at a shell would. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 90_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Starts `troupe start` with `env`; resolves with the port from its banner. `output()` is stdout and stderr so far.
 * A child that exits first, or prints no banner within `bannerMs`, fails the start and is not left running.
 */
export async function startGatewayProcess(env: Record<string, string>, bannerMs = 60_000): Promise<{ child: ChildProcessWithoutNullStreams; port: number; output: () => string }> {
  const child = spawn(process.execPath, [CLI, 'start'], { env: { ...process.env, TROUPE_PORT: '0', ...env }, stdio: 'pipe' });
  let output = '';
  child.stderr.on('data', (d: Buffer) => { output += String(d); });
  const port = await new Promise<number>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${why}: ${output}`));
    };
    const timer = setTimeout(() => fail(`no banner in ${bannerMs} ms`), bannerMs);
    const exited = (code: number | null, signal: NodeJS.Signals | null) => fail(`gateway exited (${signal ?? code}) before its banner`);
    child.once('exit', exited);
    child.stdout.on('data', (d: Buffer) => {
      output += String(d);
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        child.off('exit', exited);
        resolve(Number(m[1]));
      }
    });
  });
  return { child, port, output: () => output };
}
