/**
 * API keys of the signed-in tenant: create (the key is shown this once), list
 * (metadata only: the gateway never returns a key again) and revoke.
 */
import { api } from './api.js';
import { errorText, fill, h, notice, when } from './dom.js';
import { listInto } from './listing.js';
import type { Page } from './page.js';

interface KeyRow {
  id: string;
  name: string;
  scopes: string[];
  userId: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
}

const SCOPES = ['chat', 'admin', 'usage:read', 'audit:read', 'channels', 'metrics'] as const;

export const keysPage: Page = {
  id: 'keys',
  title: 'API keys',
  async render(root) {
    const name = h('input', { id: 'key-name', 'aria-label': 'Key name', required: true, maxlength: 128, placeholder: 'name, e.g. ci' });
    const expires = h('select', { id: 'key-expires', 'aria-label': 'Expires' },
      ...['30d', '90d', '12h', 'never'].map((v) => h('option', { value: v }, v === 'never' ? 'never expires' : `expires in ${v}`)));
    const boxes = SCOPES.map((s) => h('input', { type: 'checkbox', value: s, checked: s === 'chat', 'aria-label': s }));
    const shown = h('div', { id: 'key-created' });
    const list = h('div', { id: 'key-list' });
    const form = h('form', { class: 'card' },
      h('h2', {}, 'New key'),
      h('div', { class: 'row' }, name, expires),
      h('div', { class: 'row scopes' }, ...boxes.map((b) => h('label', {}, b, ` ${b.value}`))),
      h('button', { type: 'submit', id: 'key-create' }, 'Create key'),
    );
    fill(root, h('h1', {}, 'API keys'), form, shown, h('h2', {}, 'Keys'), list);

    const load = async (): Promise<void> => {
      await listInto<KeyRow>(list, '/admin/v1/api-keys?limit=1000', [
        { title: 'Name', cell: (k) => k.name },
        { title: 'Id', cell: (k) => h('code', {}, k.id) },
        { title: 'Scopes', cell: (k) => (k.scopes.length === 0 ? 'chat' : k.scopes.join(' ')) },
        { title: 'User', cell: (k) => k.userId ?? '—' },
        { title: 'Created', cell: (k) => when(k.createdAt) },
        { title: 'Expires', cell: (k) => (k.expiresAt === null ? 'never' : when(k.expiresAt)) },
        { title: 'Last used', cell: (k) => when(k.lastUsedAt) },
        { title: 'State', cell: (k) => (k.revokedAt === null ? revokeButton(k, list, load) : `revoked ${when(k.revokedAt)}`) },
      ], 'No keys yet.');
    };

    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const scopes = boxes.filter((b) => b.checked).map((b) => b.value);
      api<KeyRow & { key: string }>('POST', '/admin/v1/api-keys', { name: name.value.trim(), scopes, expiresIn: expires.value }).then(
        (created) => {
          const key = h('code', { id: 'key-secret', class: 'secret' }, created.key);
          const copy = h('button', { type: 'button', class: 'secondary' }, 'Copy');
          copy.addEventListener('click', () => {
            navigator.clipboard.writeText(created.key).then(() => { copy.textContent = 'Copied'; }, () => { copy.textContent = 'Select and copy it'; });
          });
          fill(shown, h('div', { class: 'card created' },
            h('p', {}, `Key "${created.name}" created. Copy it now: it is not shown again.`),
            h('div', { class: 'row' }, key, copy)));
          name.value = '';
          void load();
        },
        (err: unknown) => fill(shown, notice('error', errorText(err))),
      );
    });
    await load();
  },
};

/** Revoking takes two clicks: the first asks, the second revokes. */
function revokeButton(k: KeyRow, list: HTMLElement, reload: () => Promise<void>): HTMLElement {
  const button = h('button', { type: 'button', class: 'danger', 'data-key': k.id }, 'Revoke');
  let armed = false;
  button.addEventListener('click', () => {
    if (!armed) {
      armed = true;
      button.textContent = 'Confirm revoke';
      return;
    }
    button.disabled = true;
    api('DELETE', `/admin/v1/api-keys/${encodeURIComponent(k.id)}`).then(
      () => reload(),
      (err: unknown) => list.prepend(notice('error', errorText(err))),
    );
  });
  return button;
}
