/** Launch settings for the real MCP servers installed as devDependencies. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { McpStdioServerConfig } from '../../tools/mcp/config.js';

const require = createRequire(import.meta.url);

/** Absolute path of a package's bin script (read from its package.json, which the packages do not hide behind exports). */
export function binOf(pkg: string): string {
  const manifestPath = require.resolve(`${pkg}/package.json`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { bin?: string | Record<string, string> };
  const bin = typeof manifest.bin === 'string' ? manifest.bin : Object.values(manifest.bin ?? {})[0];
  if (bin === undefined) throw new Error(`${pkg} declares no bin`);
  return path.join(path.dirname(manifestPath), bin);
}

export function everything(): McpStdioServerConfig {
  return { command: process.execPath, args: [binOf('@modelcontextprotocol/server-everything'), 'stdio'] };
}

export function filesystem(root: string): McpStdioServerConfig {
  return { command: process.execPath, args: [binOf('@modelcontextprotocol/server-filesystem'), root] };
}

export function memory(file: string): McpStdioServerConfig {
  return { command: process.execPath, args: [binOf('@modelcontextprotocol/server-memory')], env: { MEMORY_FILE_PATH: file } };
}

const bindFixture = fileURLToPath(new URL('./fixtures/bind_loopback.js', import.meta.url));

/** Starts server-everything in streamable HTTP mode on 127.0.0.1:<free port>; resolves with its MCP URL. */
export function startEverythingHttp(t: { teardown(fn: () => unknown): void }): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', bindFixture, binOf('@modelcontextprotocol/server-everything'), 'streamableHttp'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`server-everything did not start: ${seen}`)), 20_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      seen = (seen + chunk.toString('utf8')).slice(-4096);
      const m = /LISTENING (\d+)/.exec(seen);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ url: `http://127.0.0.1:${m[1]}/mcp`, child });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server-everything exited with ${code}: ${seen}`));
    });
  });
}
