/**
 * The tenant's agents (/admin/v1/agents): list, edit, create and delete. An
 * agent is edited as its JSON definition (docs/admin.md, "Agents"); saving
 * sends only what changed, as a PATCH (a removed field as null), so anything
 * the answer does not show (a key the config file gave inline) is kept. A
 * change reaches the next run.
 */
import { api } from './api.js';
import { fill, h, when } from './dom.js';
import { jsonEditor, reopenAfter, type Definition } from './editor.js';
import { listInto } from './listing.js';
import type { Page } from './page.js';

interface AgentRow extends Definition {
  id: string;
  createdAt: string;
  updatedAt: string;
}

const TEMPLATE: Definition = { description: 'a new agent', systemPrompt: 'You are helpful.', model: 'sim-1', provider: { kind: 'simulated' } };
const PATH = '/admin/v1/agents';

/** The definition without what only answers carry. */
function definitionOf(a: AgentRow): Definition {
  const { id: _id, createdAt: _c, updatedAt: _u, ...rest } = a;
  return rest;
}

function modelOf(a: AgentRow): string {
  const chain = a.chain as { providerId?: string; model?: string }[] | undefined;
  if (Array.isArray(chain) && chain.length > 0) return chain.map((c) => `${c.providerId ?? '?'}:${c.model ?? '?'}`).join(' → ');
  const provider = a.provider as { kind?: string } | undefined;
  return `${provider?.kind ?? '?'}/${String(a.model ?? '?')}`;
}

/** The PATCH body taking `before` to `after`: changed and new fields, and null for each removed one. */
export function patchOf(before: Definition, after: Definition): Definition {
  const patch: Definition = {};
  for (const [k, v] of Object.entries(after)) if (JSON.stringify(before[k]) !== JSON.stringify(v)) patch[k] = v;
  for (const k of Object.keys(before)) if (!(k in after)) patch[k] = null;
  return patch;
}

export const agentsPage: Page = {
  id: 'agents',
  title: 'Agents',
  async render(root) {
    const list = h('div', { id: 'agent-list' });
    const editor = h('div', { id: 'agent-editor' });
    const add = h('button', { type: 'button', class: 'secondary', id: 'agent-new' }, 'New agent');
    fill(root, h('h1', {}, 'Agents'), h('p', { class: 'muted' }, 'A change applies to the next run; runs in flight finish on the old definition.'),
      list, h('div', { class: 'row' }, add), editor);

    const load = (): Promise<AgentRow[]> => listInto<AgentRow>(list, `${PATH}?limit=1000`, [
      { title: 'Id', cell: (a) => h('strong', {}, a.id) },
      { title: 'Description', cell: (a) => String(a.description ?? '') },
      { title: 'Model', cell: (a) => h('code', {}, modelOf(a)) },
      { title: 'Updated', cell: (a) => when(a.updatedAt) },
      { title: '', cell: (a) => h('button', { type: 'button', class: 'secondary', 'data-agent': a.id, onclick: () => edit(a) }, 'Edit') },
    ], 'No agents in this tenant.');

    const edit = (agent: AgentRow | undefined): void => {
      const before = agent === undefined ? undefined : definitionOf(agent);
      jsonEditor(editor, {
        noun: 'agent', prefix: 'agent', id: agent?.id, definition: before ?? TEMPLATE,
        save: async (id, after) => {
          const path = `${PATH}/${encodeURIComponent(id)}`;
          return (await (before === undefined ? api<AgentRow>('PUT', path, after) : api<AgentRow>('PATCH', path, patchOf(before, after)))).id;
        },
        remove: async (id) => { await api('DELETE', `${PATH}/${encodeURIComponent(id)}`); },
        done: reopenAfter(editor, 'agent', load, edit),
      });
    };
    add.addEventListener('click', () => edit(undefined));
    await load();
  },
};
