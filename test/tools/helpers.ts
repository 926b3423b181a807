import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ToolError } from '../../tools/errors.js';
import type { InvokeContext } from '../../tools/types.js';

export interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A fresh temporary folder, removed when the test ends. */
export async function tempDir(t: Teardown, prefix = 'troupe-tools-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function context(workspaceDir: string, extra: Partial<InvokeContext> = {}): InvokeContext {
  return { sessionId: 's1', tenant: 't1', workspaceDir, ...extra };
}

/** Awaits a promise expected to reject with a ToolError and returns it. */
export async function toolError(promise: Promise<unknown>): Promise<ToolError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ToolError) return err;
    throw err;
  }
  throw new Error('expected a ToolError');
}
