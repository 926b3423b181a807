/**
 * The independent Go programs in this folder (wsload.go, the WebSocket
 * client; chanload.go, the channel harness): a given binary, or built from
 * source with Debian's Go (golang-go; wsload also needs
 * golang-github-gorilla-websocket-dev) into the temp dir, no module download.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchError } from '../common/target.js';

export type GoProgram = 'wsload' | 'chanload';

/** Whether `go` runs here. */
export function hasGo(): boolean {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The path of `program`'s binary: `given`, or /tmp/troupe-<program> built now (Go's cache makes a rebuild quick). */
export function goBinary(program: GoProgram, given?: string): string {
  if (given !== undefined) return given;
  if (!hasGo()) {
    throw new BenchError('UNAVAILABLE', `bench/independent/${program}.go needs Go to build: apt-get install golang-go${program === 'wsload' ? ' golang-github-gorilla-websocket-dev' : ''}`);
  }
  const out = join(tmpdir(), `troupe-${program}`);
  const src = fileURLToPath(new URL(`../../../bench/independent/${program}.go`, import.meta.url));
  if (!existsSync(src)) throw new Error(`${program}.go not found at ${src}`);
  execFileSync('go', ['build', '-o', out, src], {
    env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: join(tmpdir(), 'troupe-go-cache') },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return out;
}
