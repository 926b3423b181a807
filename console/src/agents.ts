/**
 * The tenant's agents (/admin/v1/agents): list, edit, create and delete. An
 * agent is edited as its JSON definition (docs/admin.md, "Agents"); saving
 * sends only what changed, as a PATCH (a removed field as null), so anything
 * the answer does not show (a key the config file gave inline) is kept. A
 * change reaches the next run.
 */
import { api, ApiError } from './api.js';
import { errorText, fill, h, notice, table, when } from './dom.js';
import type { Page } from './page.js';

type Definition = Record<string, unknown>;

interface AgentRow extends Definition {
  id: string;
  createdAt: string;
  updatedAt: string;
}

const TEMPLATE: Definition = { description: 'a new agent', systemPrompt: 'You are helpful.', model: 'sim-1', provider: { kind: 'simulated' } };

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

    const load = async (): Promise<void> => {
      try {
        const { data } = await api<{ data: AgentRow[] }>('GET', '/admin/v1/agents?limit=1000');
        fill(list, table<AgentRow>([
          { title: 'Id', cell: (a) => h('strong', {}, a.id) },
          { title: 'Description', cell: (a) => String(a.description ?? '') },
          { title: 'Model', cell: (a) => h('code', {}, modelOf(a)) },
          { title: 'Updated', cell: (a) => when(a.updatedAt) },
          { title: '', cell: (a) => h('button', { type: 'button', class: 'secondary', 'data-agent': a.id, onclick: () => edit(a) }, 'Edit') },
        ], data, 'No agents in this tenant.'));
      } catch (err) {
        fill(list, notice('error', errorText(err)));
      }
    };

    /** The editor for `agent`, or for a new one when undefined. */
    const edit = (agent: AgentRow | undefined): void => {
      const before = agent === undefined ? undefined : definitionOf(agent);
      const id = h('input', { id: 'agent-id', 'aria-label': 'Agent id', maxlength: 128, placeholder: 'id', value: agent?.id ?? '', disabled: agent !== undefined });
      const text = h('textarea', { id: 'agent-json', 'aria-label': 'Definition (JSON)', spellcheck: 'false' });
      text.value = JSON.stringify(before ?? TEMPLATE, null, 2);
      const save = h('button', { type: 'submit', id: 'agent-save' }, agent === undefined ? 'Create' : 'Save');
      const remove = h('button', { type: 'button', class: 'danger', id: 'agent-delete', hidden: agent === undefined }, 'Delete');
      const out = h('div', { id: 'agent-result' });
      const form = h('form', { class: 'card agent-editor' },
        h('h2', {}, agent === undefined ? 'New agent' : `Edit ${agent.id}`), id, text, h('div', { class: 'row' }, save, remove), out);
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        let after: Definition;
        try {
          const parsed: unknown = JSON.parse(text.value);
          if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the definition must be a JSON object');
          after = parsed as Definition;
        } catch (err) {
          fill(out, notice('error', `Not valid JSON: ${errorText(err)}`));
          return;
        }
        const name = id.value.trim();
        const request = before === undefined
          ? api<AgentRow>('PUT', `/admin/v1/agents/${encodeURIComponent(name)}`, after)
          : api<AgentRow>('PATCH', `/admin/v1/agents/${encodeURIComponent(name)}`, patchOf(before, after));
        save.disabled = true;
        request.then(
          (saved) => {
            void load();
            edit(saved);
            fill(document.getElementById('agent-result') as HTMLElement, notice('ok', `Saved ${saved.id}: the next run uses it.`));
          },
          (err: unknown) => {
            save.disabled = false;
            const field = err instanceof ApiError && err.reason !== undefined ? ` (${err.reason})` : '';
            fill(out, notice('error', `${errorText(err)}${field}`));
          },
        );
      });
      let armed = false;
      remove.addEventListener('click', () => {
        if (agent === undefined) return;
        if (!armed) {
          armed = true;
          remove.textContent = `Really delete ${agent.id}?`;
          return;
        }
        api('DELETE', `/admin/v1/agents/${encodeURIComponent(agent.id)}`).then(
          () => { fill(editor, notice('ok', `Deleted ${agent.id}.`)); void load(); },
          (err: unknown) => fill(out, notice('error', errorText(err))),
        );
      });
      fill(editor, form);
      (agent === undefined ? id : text).focus();
    };
    add.addEventListener('click', () => edit(undefined));
    await load();
  },
};
