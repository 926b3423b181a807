import t from 'tap';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileTools } from '../../tools/builtin/files.js';
import { ToolRegistry } from '../../tools/registry.js';
import { context, tempDir, toolError } from './helpers.js';

async function setup(t: Parameters<typeof tempDir>[0], options: Parameters<typeof fileTools>[0] = {}) {
  const base = await tempDir(t);
  const workspace = path.join(base, 'ws');
  const outside = path.join(base, 'outside');
  await mkdir(workspace);
  await mkdir(outside);
  await writeFile(path.join(outside, 'secret.txt'), 'top secret');
  const registry = new ToolRegistry();
  for (const tool of fileTools(options)) registry.register(tool);
  return { registry, workspace, outside, ctx: context(workspace) };
}

t.test('write_file then read_file round-trips text inside the workspace', async (t) => {
  const { registry, workspace, ctx } = await setup(t);
  const wrote = await registry.invoke('write_file', { path: 'notes/a.txt', content: 'héllo' }, ctx);
  t.match(wrote, { content: 'wrote 6 bytes to notes/a.txt' });
  t.equal(await readFile(path.join(workspace, 'notes/a.txt'), 'utf8'), 'héllo');
  await registry.invoke('write_file', { path: 'notes/a.txt', content: '!', append: true }, ctx);
  t.match(await registry.invoke('read_file', { path: 'notes/a.txt' }, ctx), { content: 'héllo!', data: { size: 7 } });
});

t.test('a path climbing out with ../ is FORBIDDEN', async (t) => {
  const { registry, ctx } = await setup(t);
  t.match(await toolError(registry.invoke('read_file', { path: '../outside/secret.txt' }, ctx)), { code: 'FORBIDDEN', reason: 'outside_workspace' });
  t.match(await toolError(registry.invoke('write_file', { path: 'a/../../evil.txt', content: 'x' }, ctx)), { code: 'FORBIDDEN' });
  t.match(await toolError(registry.invoke('list_files', { path: '..' }, ctx)), { code: 'FORBIDDEN' });
});

t.test('an absolute path is FORBIDDEN, even one inside the workspace', async (t) => {
  const { registry, outside, workspace, ctx } = await setup(t);
  t.match(await toolError(registry.invoke('read_file', { path: path.join(outside, 'secret.txt') }, ctx)), { code: 'FORBIDDEN', message: /absolute/ });
  t.match(await toolError(registry.invoke('read_file', { path: path.join(workspace, 'x') }, ctx)), { code: 'FORBIDDEN' });
});

t.test('a symlink leading out of the workspace is FORBIDDEN for read, write and list', async (t) => {
  const { registry, workspace, outside, ctx } = await setup(t);
  await symlink(path.join(outside, 'secret.txt'), path.join(workspace, 'link.txt'));
  await symlink(outside, path.join(workspace, 'door'));
  t.match(await toolError(registry.invoke('read_file', { path: 'link.txt' }, ctx)), { code: 'FORBIDDEN', message: /symlink leads out/ });
  t.match(await toolError(registry.invoke('write_file', { path: 'door/new.txt', content: 'x' }, ctx)), { code: 'FORBIDDEN' });
  t.match(await toolError(registry.invoke('write_file', { path: 'link.txt', content: 'overwrite' }, ctx)), { code: 'FORBIDDEN' });
  t.match(await toolError(registry.invoke('list_files', { path: 'door' }, ctx)), { code: 'FORBIDDEN' });
  t.equal(await readFile(path.join(outside, 'secret.txt'), 'utf8'), 'top secret', 'the outside file is untouched');
});

t.test('a symlink that stays inside the workspace is followed', async (t) => {
  const { registry, workspace, ctx } = await setup(t);
  await writeFile(path.join(workspace, 'real.txt'), 'inside');
  await symlink(path.join(workspace, 'real.txt'), path.join(workspace, 'alias.txt'));
  t.match(await registry.invoke('read_file', { path: 'alias.txt' }, ctx), { content: 'inside' });
});

t.test('list_files lists sorted entries, recursively on request, without following symlinks', async (t) => {
  const { registry, workspace, outside, ctx } = await setup(t);
  await mkdir(path.join(workspace, 'sub'));
  await writeFile(path.join(workspace, 'b.txt'), 'bb');
  await writeFile(path.join(workspace, 'sub', 'c.txt'), 'c');
  await symlink(outside, path.join(workspace, 'door'));
  t.equal((await registry.invoke('list_files', {}, ctx)).content, 'b.txt (2 bytes)\ndoor\nsub/');
  t.equal((await registry.invoke('list_files', { recursive: true }, ctx)).content, 'b.txt (2 bytes)\ndoor\nsub/\nsub/c.txt (1 bytes)');
});

t.test('reads and listings are bounded and say so', async (t) => {
  const { registry, workspace, ctx } = await setup(t, { maxReadBytes: 4, maxListEntries: 2 });
  await writeFile(path.join(workspace, 'long.txt'), 'abcdefgh');
  await writeFile(path.join(workspace, 'y.txt'), 'y');
  await writeFile(path.join(workspace, 'z.txt'), 'z');
  const read = await registry.invoke('read_file', { path: 'long.txt' }, ctx);
  t.match(read, { truncated: true, content: /^abcd\n\[file truncated: 4 of 8 bytes shown\]$/ });
  const list = await registry.invoke('list_files', {}, ctx);
  t.match(list, { truncated: true, content: /\[listing truncated at 2 entries\]$/ });
});

t.test('a missing file is NOT_FOUND and a directory is not readable as a file', async (t) => {
  const { registry, workspace, ctx } = await setup(t);
  await mkdir(path.join(workspace, 'dir'));
  t.match(await toolError(registry.invoke('read_file', { path: 'nope.txt' }, ctx)), { code: 'NOT_FOUND' });
  t.match(await toolError(registry.invoke('read_file', { path: 'dir' }, ctx)), { code: 'INVALID_REQUEST' });
});
