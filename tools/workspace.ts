/**
 * Confinement of paths to a session's workspace. A path is accepted only if it
 * is relative, stays inside the workspace lexically, and stays inside once
 * every symlink on the way is resolved (the realpath of the deepest part that
 * exists is checked). Files are then opened with O_NOFOLLOW, so a symlink put
 * in place after the check is refused rather than followed.
 */
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ToolError } from './errors.js';

export const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;

function escape(rel: string, why: string): ToolError {
  return new ToolError('FORBIDDEN', 'outside_workspace', `path '${rel}' is outside the workspace (${why})`);
}

function inside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Creates the workspace if needed and returns its real path. */
export async function workspaceRoot(workspaceDir: string): Promise<string> {
  if (!path.isAbsolute(workspaceDir)) throw new ToolError('INTERNAL', 'bad_workspace', 'the session workspace must be an absolute path');
  await fs.mkdir(workspaceDir, { recursive: true });
  return fs.realpath(workspaceDir);
}

/** The deepest existing ancestor's real path, joined with the parts that do not exist yet. */
async function realpathOfExistingPrefix(target: string): Promise<string> {
  const missing: string[] = [];
  let current = target;
  for (;;) {
    try {
      const real = await fs.realpath(current);
      return path.join(real, ...missing.reverse());
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const parent = path.dirname(current);
      if (parent === current) return target;
      missing.push(path.basename(current));
      current = parent;
    }
  }
}

/**
 * Resolves `rel` inside the workspace and returns the absolute path to use.
 * FORBIDDEN for absolute paths, `..` escapes and symlinks leading out;
 * INVALID_REQUEST for empty paths or NUL bytes.
 */
export async function resolveInWorkspace(workspaceDir: string, rel: string): Promise<string> {
  if (rel.includes('\0')) throw new ToolError('INVALID_REQUEST', 'bad_path', 'path contains a NUL byte', { path: '$.path' });
  if (rel.trim() === '') throw new ToolError('INVALID_REQUEST', 'bad_path', 'path is empty', { path: '$.path' });
  if (path.isAbsolute(rel) || /^[A-Za-z]:[\\/]/.test(rel)) throw escape(rel, 'absolute paths are not allowed');
  const root = await workspaceRoot(workspaceDir);
  const target = path.resolve(root, rel);
  if (!inside(root, target)) throw escape(rel, 'it climbs out with ..');
  const real = await realpathOfExistingPrefix(target);
  if (!inside(root, real)) throw escape(rel, 'a symlink leads out');
  return real;
}

/** Path of `abs` relative to the workspace root, for display. */
export function displayPath(root: string, abs: string): string {
  return path.relative(root, abs) || '.';
}
