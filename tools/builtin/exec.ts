/**
 * `exec`: runs a shell command in the session's workspace. Off unless the
 * configuration enables it. Every command passes the shell guard
 * (security/shell_guard.ts) first; it then runs as its own process group with
 * a scrubbed environment, the workspace as cwd, bounded output, and a deadline
 * after which the whole group is killed.
 *
 * Why a child process and not the TaskPool: the command is a separate program
 * already; a worker thread would only sit waiting on it. Isolation, the kill
 * on timeout and resource use belong to the process (and to the sandbox the
 * operator runs Troupe in: the guard is a tripwire, not a sandbox).
 */
import { spawn } from 'node:child_process';
import { checkCommand } from '../../security/shell_guard.js';
import type { ShellGuardConfig } from '../../security/shell_guard.js';
import { ToolError } from '../errors.js';
import type { ToolDefinition } from '../types.js';
import { resolveInWorkspace, workspaceRoot } from '../workspace.js';

export interface ExecOptions {
  /** Off by default: exec is registered only when this is true. */
  enabled?: boolean;
  /** Shell used as `<shell> -c <command>` (default /bin/sh). */
  shell?: string;
  /** Kill after this long (default 30 s; the call's deadline also applies). */
  timeoutMs?: number;
  /** Bytes of stdout+stderr kept (default 64 KiB); the rest is dropped and noted. */
  maxOutputBytes?: number;
  /** Variables passed to the command on top of PATH, HOME (the workspace), LANG. Nothing else is inherited. */
  env?: Record<string, string>;
  guard?: ShellGuardConfig;
}

const BASE_PATH = '/usr/local/bin:/usr/bin:/bin';

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  dropped: number;
  timedOut: boolean;
}

function run(shell: string, command: string, cwd: string, env: Record<string, string>, timeoutMs: number, maxBytes: number, signal: AbortSignal): Promise<Finished> {
  return new Promise((resolve, reject) => {
    // detached: the command leads its own process group, so a kill reaches its children too.
    const child = spawn(shell, ['-c', command], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let kept = 0;
    let dropped = 0;
    let timedOut = false;
    const take = (chunk: Buffer): void => {
      const part = chunk.subarray(0, Math.max(0, maxBytes - kept));
      if (part.length > 0) chunks.push(part);
      kept += part.length;
      dropped += chunk.length - part.length;
    };
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    signal.addEventListener('abort', killGroup, { once: true });
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (err) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', killGroup);
      reject(err);
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', killGroup);
      resolve({ code, signal: sig, output: Buffer.concat(chunks).toString('utf8'), dropped, timedOut });
    });
  });
}

export function execTool(options: ExecOptions = {}): ToolDefinition {
  const shell = options.shell ?? '/bin/sh';
  const limit = options.timeoutMs ?? 30_000;
  const maxBytes = options.maxOutputBytes ?? 64 * 1024;
  return {
    name: 'exec',
    description: 'Run a shell command in the workspace and return its exit code and output (stdout and stderr together).',
    parameters: {
      type: 'object',
      properties: {
        command: { type: 'string', minLength: 1, maxLength: 8192 },
        cwd: { type: 'string', minLength: 1, maxLength: 4096, description: 'folder relative to the workspace' },
      },
      required: ['command'],
      additionalProperties: false,
    },
    readOnly: false,
    group: 'exec',
    timeoutMs: limit + 1_000,
    async run(args, ctx) {
      const command = args.command as string;
      const verdict = checkCommand(command, options.guard);
      if (!verdict.allowed) {
        throw new ToolError('FORBIDDEN', 'shell_guard', `command refused by the shell guard (${verdict.group}: ${verdict.pattern})`);
      }
      const root = await workspaceRoot(ctx.workspaceDir);
      const cwd = typeof args.cwd === 'string' ? await resolveInWorkspace(ctx.workspaceDir, args.cwd) : root;
      const env = { ...options.env, PATH: options.env?.PATH ?? BASE_PATH, HOME: root, LANG: 'C.UTF-8' };
      const timeoutMs = Math.min(limit, ctx.timeoutMs);
      const done = await run(shell, command, cwd, env, timeoutMs, maxBytes, ctx.signal);
      if (done.timedOut) throw new ToolError('TIMEOUT', 'exec_timeout', `command killed after ${timeoutMs} ms`);
      const status = done.code === null ? `killed by ${done.signal}` : `exit code ${done.code}`;
      const note = done.dropped > 0 ? `\n[output truncated: ${done.dropped} bytes dropped]` : '';
      return {
        content: `${status}\n${done.output}${note}`,
        isError: done.code !== 0,
        truncated: done.dropped > 0,
        data: { exitCode: done.code, signal: done.signal },
      };
    },
  };
}
