/**
 * `read_file`, `write_file`, `list_files`: file access confined to the
 * session's workspace (see ../workspace.ts for how escapes are refused).
 */
import { promises as fs, constants } from 'node:fs';
import * as path from 'node:path';
import { ToolError } from '../errors.js';
import type { ToolDefinition } from '../types.js';
import { O_NOFOLLOW, displayPath, resolveInWorkspace, workspaceRoot } from '../workspace.js';

export interface FileToolsOptions {
  /** Largest read, bytes (default 256 KiB); longer files are cut and marked. */
  maxReadBytes?: number;
  /** Largest write, characters (default 1 MiB). */
  maxWriteChars?: number;
  /** Most entries a listing returns (default 1000). */
  maxListEntries?: number;
  /** Deepest recursion of a listing (default 8). */
  maxListDepth?: number;
}

const PATH_SCHEMA = { type: 'string', minLength: 1, maxLength: 4096, description: 'path relative to the workspace' } as const;

function fsError(err: unknown, rel: string): ToolError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new ToolError('NOT_FOUND', 'no_such_file', `'${rel}' does not exist`, { cause: err });
  if (code === 'ELOOP') return new ToolError('FORBIDDEN', 'symlink_refused', `'${rel}' is a symlink; not followed`, { cause: err });
  if (code === 'EISDIR') return new ToolError('INVALID_REQUEST', 'is_directory', `'${rel}' is a directory`, { cause: err });
  if (code === 'ENOTDIR') return new ToolError('INVALID_REQUEST', 'not_directory', `'${rel}' is not a directory`, { cause: err });
  if (code === 'EACCES' || code === 'EPERM') return new ToolError('FORBIDDEN', 'permission_denied', `no permission for '${rel}'`, { cause: err });
  if (err instanceof ToolError) return err;
  return new ToolError('INTERNAL', 'fs_failed', `file operation on '${rel}' failed: ${(err as Error).message}`, { cause: err });
}

function readFileTool(maxBytes: number): ToolDefinition {
  return {
    name: 'read_file',
    description: `Read a UTF-8 text file from the workspace (at most ${maxBytes} bytes).`,
    parameters: { type: 'object', properties: { path: PATH_SCHEMA }, required: ['path'], additionalProperties: false },
    readOnly: true,
    group: 'fs',
    async run(args, ctx) {
      const rel = args.path as string;
      const abs = await resolveInWorkspace(ctx.workspaceDir, rel);
      let handle: fs.FileHandle | undefined;
      try {
        handle = await fs.open(abs, constants.O_RDONLY | O_NOFOLLOW);
        const stat = await handle.stat();
        if (!stat.isFile()) throw new ToolError('INVALID_REQUEST', 'not_a_file', `'${rel}' is not a regular file`);
        const buffer = Buffer.alloc(Math.min(stat.size, maxBytes));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
        const text = buffer.subarray(0, bytesRead).toString('utf8');
        const cut = stat.size > maxBytes;
        const content = cut ? `${text}\n[file truncated: ${maxBytes} of ${stat.size} bytes shown]` : text;
        return { content, truncated: cut, data: { path: rel, size: stat.size } };
      } catch (err) {
        throw fsError(err, rel);
      } finally {
        await handle?.close();
      }
    },
  };
}

function writeFileTool(maxChars: number): ToolDefinition {
  return {
    name: 'write_file',
    description: 'Write a UTF-8 text file in the workspace, creating parent folders. Set append to add to the end.',
    parameters: {
      type: 'object',
      properties: { path: PATH_SCHEMA, content: { type: 'string', maxLength: maxChars }, append: { type: 'boolean' } },
      required: ['path', 'content'],
      additionalProperties: false,
    },
    readOnly: false,
    group: 'fs',
    async run(args, ctx) {
      const rel = args.path as string;
      const content = args.content as string;
      try {
        const abs = await resolveInWorkspace(ctx.workspaceDir, rel);
        await fs.mkdir(path.dirname(abs), { recursive: true });
        // mkdir may have raced with a symlink swap: check the parent again before writing.
        await resolveInWorkspace(ctx.workspaceDir, rel);
        const flags = constants.O_WRONLY | constants.O_CREAT | O_NOFOLLOW | (args.append === true ? constants.O_APPEND : constants.O_TRUNC);
        const handle = await fs.open(abs, flags, 0o644);
        try {
          await handle.writeFile(content, 'utf8');
        } finally {
          await handle.close();
        }
        const bytes = Buffer.byteLength(content);
        return { content: `wrote ${bytes} bytes to ${rel}`, data: { path: rel, bytes } };
      } catch (err) {
        throw fsError(err, rel);
      }
    },
  };
}

interface Entry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  size?: number;
}

async function walk(root: string, dir: string, recursive: boolean, depth: number, limits: { max: number; depth: number }, out: Entry[]): Promise<boolean> {
  const dirents = await fs.readdir(dir, { withFileTypes: true });
  dirents.sort((a, b) => a.name.localeCompare(b.name));
  for (const d of dirents) {
    if (out.length >= limits.max) return true;
    const abs = path.join(dir, d.name);
    const rel = displayPath(root, abs);
    // Symlinks are listed, never followed: their targets may lie outside.
    if (d.isSymbolicLink()) out.push({ path: rel, type: 'symlink' });
    else if (d.isDirectory()) {
      out.push({ path: `${rel}/`, type: 'dir' });
      if (recursive && depth < limits.depth && (await walk(root, abs, recursive, depth + 1, limits, out))) return true;
    } else if (d.isFile()) out.push({ path: rel, type: 'file', size: (await fs.lstat(abs)).size });
    else out.push({ path: rel, type: 'other' });
  }
  return false;
}

function listFilesTool(maxEntries: number, maxDepth: number): ToolDefinition {
  return {
    name: 'list_files',
    description: `List files in a workspace folder (default the workspace root); recursive up to ${maxDepth} levels, at most ${maxEntries} entries.`,
    parameters: {
      type: 'object',
      properties: { path: PATH_SCHEMA, recursive: { type: 'boolean' } },
      additionalProperties: false,
    },
    readOnly: true,
    group: 'fs',
    async run(args, ctx) {
      const rel = typeof args.path === 'string' ? args.path : '.';
      try {
        const root = await workspaceRoot(ctx.workspaceDir);
        const abs = await resolveInWorkspace(ctx.workspaceDir, rel);
        const entries: Entry[] = [];
        const cut = await walk(root, abs, args.recursive === true, 1, { max: maxEntries, depth: maxDepth }, entries);
        const lines = entries.map((e) => (e.size === undefined ? e.path : `${e.path} (${e.size} bytes)`));
        if (cut) lines.push(`[listing truncated at ${maxEntries} entries]`);
        return { content: lines.length === 0 ? '(empty)' : lines.join('\n'), truncated: cut, data: { entries } };
      } catch (err) {
        throw fsError(err, rel);
      }
    },
  };
}

export function fileTools(options: FileToolsOptions = {}): ToolDefinition[] {
  return [
    readFileTool(options.maxReadBytes ?? 256 * 1024),
    writeFileTool(options.maxWriteChars ?? 1024 * 1024),
    listFilesTool(options.maxListEntries ?? 1000, options.maxListDepth ?? 8),
  ];
}
