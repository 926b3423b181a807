/**
 * The tenant's providers (/admin/v1/providers): list, edit, create and delete.
 * A provider is edited as its spec (`config`, `limits`, `breaker`: the config
 * file's provider without its id); its API key is write-only: the page shows
 * only whether one is stored, a new one replaces it, and "remove" clears it.
 */
import { api } from './api.js';
import { fill, h, when } from './dom.js';
import { jsonEditor, reopenAfter, type Definition } from './editor.js';
import { listInto } from './listing.js';
import type { Page } from './page.js';

interface ProviderRow extends Definition {
  id: string;
  config: { kind?: string; baseURL?: string } & Definition;
  hasApiKey: boolean;
  createdAt: string;
  updatedAt: string;
}

const TEMPLATE: Definition = { config: { kind: 'openai', baseURL: 'https://api.openai.com/v1' }, limits: { concurrency: 8 } };
const PATH = '/admin/v1/providers';

function specOf(p: ProviderRow): Definition {
  const { id: _id, hasApiKey: _k, createdAt: _c, updatedAt: _u, ...rest } = p;
  return rest;
}

export const providersPage: Page = {
  id: 'providers',
  title: 'Providers',
  async render(root) {
    const list = h('div', { id: 'provider-list' });
    const editor = h('div', { id: 'provider-editor' });
    const add = h('button', { type: 'button', class: 'secondary', id: 'provider-new' }, 'New provider');
    fill(root, h('h1', {}, 'Providers'),
      h('p', { class: 'muted' }, 'Agents name these in their "chain". Keys are sealed in the secret store and never shown again.'),
      list, h('div', { class: 'row' }, add), editor);

    const load = (): Promise<ProviderRow[]> => listInto<ProviderRow>(list, `${PATH}?limit=1000`, [
      { title: 'Id', cell: (p) => h('strong', {}, p.id) },
      { title: 'Kind', cell: (p) => String(p.config.kind ?? '?') },
      { title: 'Base URL', cell: (p) => (p.config.baseURL === undefined ? '—' : h('code', {}, String(p.config.baseURL))) },
      { title: 'Key', cell: (p) => (p.hasApiKey ? 'stored' : 'none') },
      { title: 'Updated', cell: (p) => when(p.updatedAt) },
      { title: '', cell: (p) => h('button', { type: 'button', class: 'secondary', 'data-provider': p.id, onclick: () => edit(p) }, 'Edit') },
    ], 'No providers in this tenant: agents use the config file\'s.');

    const edit = (provider: ProviderRow | undefined): void => {
      const key = h('input', { id: 'provider-key', type: 'password', autocomplete: 'off', 'aria-label': 'API key',
        placeholder: provider?.hasApiKey === true ? 'a key is stored: type a new one to replace it' : 'API key (optional)' });
      const drop = h('input', { type: 'checkbox', id: 'provider-key-remove', disabled: provider?.hasApiKey !== true });
      jsonEditor(editor, {
        noun: 'provider', prefix: 'provider', id: provider?.id, definition: provider === undefined ? TEMPLATE : specOf(provider),
        extra: [h('div', { class: 'row' }, key, h('label', {}, drop, ' remove the stored key'))],
        save: async (id, spec) => {
          // Absent: the stored key is kept; a string replaces it; null removes it.
          const apiKey = drop.checked ? null : key.value === '' ? undefined : key.value;
          const body = apiKey === undefined ? spec : { ...spec, apiKey };
          return (await api<ProviderRow>('PUT', `${PATH}/${encodeURIComponent(id)}`, body)).id;
        },
        remove: async (id) => { await api('DELETE', `${PATH}/${encodeURIComponent(id)}`); },
        done: reopenAfter(editor, 'provider', load, edit),
      });
    };
    add.addEventListener('click', () => edit(undefined));
    await load();
  },
};
