/** The tenant's chat channels and their pairing requests: approve a pending code, deny or remove a user. */
import { api } from './api.js';
import { errorText, fill, h, notice, table, when } from './dom.js';
import type { Page } from './page.js';

interface Pairing {
  userId: string;
  userName: string | null;
  status: string;
  code: string | null;
  createdAt: string;
  approvedAt: string | null;
}

interface Channel {
  id: string;
  platform: string;
  agent: string | null;
  access: string;
  mode: string;
  pairings: Pairing[];
}

export const channelsPage: Page = {
  id: 'channels',
  title: 'Channels',
  async render(root) {
    const body = h('div', {});
    const msg = h('div', {});
    fill(root, h('h1', {}, 'Channels and pairing'), msg, body);
    const load = async (): Promise<void> => {
      try {
        const { data } = await api<{ data: Channel[] }>('GET', '/admin/v1/channels');
        if (data.length === 0) {
          fill(body, h('p', { class: 'muted' }, 'No channels for this tenant. Add one to the config file with `troupe channels add`.'));
          return;
        }
        fill(body, ...data.map((c) => h('section', { class: 'card' },
          h('h2', {}, `${c.id} `, h('span', { class: 'muted' }, `${c.platform} · agent ${c.agent ?? 'default'} · ${c.access} ${c.mode}`)),
          table<Pairing>([
            { title: 'User', cell: (p) => (p.userName === null ? p.userId : `${p.userName} (${p.userId})`) },
            { title: 'Status', cell: (p) => p.status },
            { title: 'Code', cell: (p) => (p.code === null ? '—' : h('code', {}, p.code)) },
            { title: 'Asked', cell: (p) => when(p.createdAt) },
            { title: 'Approved', cell: (p) => when(p.approvedAt) },
            { title: '', cell: (p) => actions(c, p) },
          ], c.pairings, 'No pairing requests.'),
        )));
      } catch (err) {
        fill(body, notice('error', errorText(err)));
      }
    };
    const act = (path: string, payload: Record<string, string>, done: string): void => {
      api('POST', path, payload).then(
        () => { fill(msg, notice('ok', done)); void load(); },
        (err: unknown) => fill(msg, notice('error', errorText(err))),
      );
    };
    const actions = (c: Channel, p: Pairing): HTMLElement => {
      const base = `/admin/v1/channels/${encodeURIComponent(c.id)}/pairings`;
      const deny = h('button', { type: 'button', class: 'danger' }, p.status === 'pending' ? 'Deny' : 'Remove');
      deny.addEventListener('click', () => act(`${base}/deny`, { userId: p.userId }, `${p.userId} removed from ${c.id}.`));
      if (p.status !== 'pending' || p.code === null) return deny;
      const code = p.code;
      const approve = h('button', { type: 'button' }, 'Approve');
      approve.addEventListener('click', () => act(`${base}/approve`, { code }, `${p.userId} may now talk to ${c.id}.`));
      return h('span', { class: 'row' }, approve, deny);
    };
    await load();
  },
};
