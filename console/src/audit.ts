/** The tenant's audit log, in chain order, a page at a time; and a check of the hash chain. */
import { api } from './api.js';
import { errorText, fill, h, notice, table, when } from './dom.js';
import type { Page } from './page.js';

interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  sourceIp: string | null;
  outcome: 'success' | 'failure' | 'denied';
  detail: Record<string, unknown> | null;
}

const PAGE = 100;
/** Rows kept on the page at most; past it, "Load more" stops and says so. */
const MAX_ROWS = 5000;

export const auditPage: Page = {
  id: 'audit',
  title: 'Audit log',
  async render(root) {
    const verdict = h('div', {});
    const verify = h('button', { type: 'button', class: 'secondary', id: 'audit-verify' }, 'Verify the chain');
    const rows: AuditRow[] = [];
    const body = h('div', { id: 'audit-rows' });
    const more = h('button', { type: 'button', class: 'secondary' }, 'Load more');
    fill(root, h('h1', {}, 'Audit log'), h('div', { class: 'row' }, verify), verdict, body, more);
    let next: number | null = 0;
    const load = async (): Promise<void> => {
      if (next === null) return;
      try {
        const page = await api<{ data: AuditRow[]; next: number | null }>('GET', `/admin/v1/audit?after=${next}&limit=${PAGE}`);
        rows.push(...page.data);
        next = rows.length >= MAX_ROWS ? null : page.next;
        more.hidden = next === null;
        fill(body, table<AuditRow>([
          { title: '#', cell: (r) => r.seq },
          { title: 'At', cell: (r) => when(r.at) },
          { title: 'Actor', cell: (r) => r.actor },
          { title: 'Action', cell: (r) => h('code', {}, r.action) },
          { title: 'Target', cell: (r) => r.target ?? '—' },
          { title: 'Outcome', cell: (r) => h('span', { class: `outcome ${r.outcome}` }, r.outcome) },
          { title: 'From', cell: (r) => r.sourceIp ?? '—' },
          { title: 'Detail', cell: (r) => (r.detail === null ? '—' : h('code', { class: 'detail' }, JSON.stringify(r.detail))) },
        ], rows, 'No audit records yet.'));
      } catch (err) {
        more.hidden = true;
        fill(body, notice('error', errorText(err)));
      }
    };
    more.addEventListener('click', () => void load());
    verify.addEventListener('click', () => {
      api<{ ok: boolean; checked: number; brokenAt?: number; reason?: string }>('GET', '/admin/v1/audit/verify').then(
        (v) => fill(verdict, v.ok
          ? notice('ok', `The chain is intact: ${v.checked} records checked.`)
          : notice('error', `The chain is broken at record ${v.brokenAt ?? '?'}: ${v.reason ?? 'unknown reason'}.`)),
        (err: unknown) => fill(verdict, notice('error', errorText(err))),
      );
    });
    await load();
  },
};
