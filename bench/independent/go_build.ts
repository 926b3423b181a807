/**
 * The independent Go load client (wsload.go): a given binary, or built from
 * source with Debian's Go (golang-go, golang-github-gorilla-websocket-dev)
 * into the temp dir, no module download.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function wsloadBinary(given?: string): string {
  if (given !== undefined) return given;
  const out = join(tmpdir(), 'troupe-wsload');
  const src = fileURLToPath(new URL('../../../bench/independent/wsload.go', import.meta.url));
  if (!existsSync(src)) throw new Error(`wsload.go not found at ${src}`);
  execFileSync('go', ['build', '-o', out, src], {
    env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: join(tmpdir(), 'troupe-go-cache') },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return out;
}
