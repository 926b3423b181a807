/**
 * The tenant's MCP servers (/admin/v1/mcp-servers): list, edit, create and
 * delete. A server is edited as its definition (stdio: `command`, `args`,
 * `cwd`; HTTP: `url`); the values of its `env` (stdio) or `headers` (HTTP) are
 * write-only, like a provider's key: the page shows only their names, values
 * typed here replace the stored ones, and "remove" clears them. An existing
 * server is saved with PATCH, so values left blank stay sealed as they are
 * (unless it switches between `command` and `url`: env values are not headers).
 */
import { api } from './api.js';
import { fill, h, when } from './dom.js';
import { jsonEditor, reopenAfter, type Definition } from './editor.js';
import { listInto } from './listing.js';
import type { Page } from './page.js';

interface McpRow {
  id: string;
  command?: string;
  args?: string[];
  cwd?: string;
  url?: string;
  envNames?: string[];
  headerNames?: string[];
  createdAt: string;
  updatedAt: string;
}

const TEMPLATE: Definition = { url: 'https://mcp.example.com/mcp' };
const PATH = '/admin/v1/mcp-servers';

function definitionOf(s: McpRow): Definition {
  const { id: _id, envNames: _e, headerNames: _h, createdAt: _c, updatedAt: _u, ...rest } = s;
  return rest;
}

/** What the server's sealed values are called: `headers` for an HTTP server, `env` for a stdio one. */
const valuesField = (d: Definition): 'headers' | 'env' => (typeof d.url === 'string' ? 'headers' : 'env');

/** The values typed as `NAME=value` lines (blank lines ignored); undefined when there are none. */
function parseValues(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const at = line.indexOf('=');
    // The line is not repeated: it may be a secret pasted without its name.
    if (at <= 0) throw new Error(`value line ${i + 1} is not NAME=value`);
    out[line.slice(0, at).trim()] = line.slice(at + 1);
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

export const mcpPage: Page = {
  id: 'mcp',
  title: 'MCP servers',
  async render(root) {
    const list = h('div', { id: 'mcp-list' });
    const editor = h('div', { id: 'mcp-editor' });
    const add = h('button', { type: 'button', class: 'secondary', id: 'mcp-new' }, 'New MCP server');
    fill(root, h('h1', {}, 'MCP servers'),
      h('p', { class: 'muted' }, 'Their tools are offered to this tenant\'s agents from the next run. Header and environment values are sealed and never shown again.'),
      list, h('div', { class: 'row' }, add), editor);

    const load = (): Promise<McpRow[]> => listInto<McpRow>(list, `${PATH}?limit=1000`, [
      { title: 'Id', cell: (s) => h('strong', {}, s.id) },
      { title: 'Runs', cell: (s) => (s.url !== undefined ? h('code', {}, s.url) : h('code', {}, [s.command ?? '?', ...(s.args ?? [])].join(' '))) },
      { title: 'Sealed', cell: (s) => [...(s.headerNames ?? []), ...(s.envNames ?? [])].join(', ') || '—' },
      { title: 'Updated', cell: (s) => when(s.updatedAt) },
      { title: '', cell: (s) => h('button', { type: 'button', class: 'secondary', 'data-mcp': s.id, onclick: () => edit(s) }, 'Edit') },
    ], 'No MCP servers in this tenant.');

    const edit = (server: McpRow | undefined): void => {
      const sealed = [...(server?.headerNames ?? []), ...(server?.envNames ?? [])];
      const values = h('textarea', { id: 'mcp-values', 'aria-label': 'Header or environment values', spellcheck: 'false', autocomplete: 'off',
        placeholder: sealed.length > 0
          ? `${sealed.join(', ')} sealed: type NAME=value lines to replace them all, or leave blank to keep them (a server switched between command and url loses them)`
          : 'NAME=value, one per line: headers of an HTTP server, environment of a stdio one (optional)' });
      const drop = h('input', { type: 'checkbox', id: 'mcp-values-remove', disabled: sealed.length === 0 });
      const before = server === undefined ? undefined : definitionOf(server);
      jsonEditor(editor, {
        noun: 'MCP server', prefix: 'mcp', id: server?.id, definition: before ?? TEMPLATE,
        extra: [values, h('div', { class: 'row' }, h('label', {}, drop, ' remove the sealed values'))],
        save: async (id, definition) => {
          const typed = parseValues(values.value);
          // Absent: the sealed values are kept; an object replaces them; null removes them.
          const sealedValues = drop.checked ? null : typed;
          const url = `${PATH}/${encodeURIComponent(id)}`;
          if (before === undefined) {
            const body = sealedValues == null ? definition : { ...definition, [valuesField(definition)]: sealedValues };
            return (await api<McpRow>('PUT', url, body)).id;
          }
          // A field taken out of the JSON is removed (null); the values go under the kind's field.
          const patch: Definition = { ...definition };
          for (const k of Object.keys(before)) if (!(k in definition)) patch[k] = null;
          if (sealedValues !== undefined) patch[valuesField(definition)] = sealedValues;
          return (await api<McpRow>('PATCH', url, patch)).id;
        },
        remove: async (id) => { await api('DELETE', `${PATH}/${encodeURIComponent(id)}`); },
        done: reopenAfter(editor, 'mcp', load, edit),
      });
    };
    add.addEventListener('click', () => edit(undefined));
    await load();
  },
};
