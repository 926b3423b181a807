/** /admin/v1/audit (`audit:read`, implied by `admin`): the tenant's chain, a page at a time, and its verification. */
import type { AuditRecord } from '../../store/index.js';
import type { AdminRouter } from './router.js';
import { AuditPage, AuditQuery, AuditVerdict } from './schemas.js';

const out = (r: AuditRecord) => ({
  seq: r.seq, at: r.at, actor: r.actor, action: r.action, target: r.target, sourceIp: r.sourceIp, outcome: r.outcome, detail: r.detail,
  prevHash: r.prevHash, hash: r.hash,
});

export function auditRoutes(router: AdminRouter): void {
  router.add({
    verb: 'GET', path: '/audit', action: 'admin.audit.list', summary: "The tenant's audit log in chain order, a page at a time", tenanted: true,
    query: AuditQuery, response: AuditPage,
    handle: async ({ store, tenant, query }) => {
      const limit = query.limit ?? 100;
      const rows = await store.listAudit(tenant, { afterSeq: query.after ?? 0, limit });
      return { data: rows.map(out), next: rows.length === limit ? rows[rows.length - 1].seq : null };
    },
  });
  router.add({
    verb: 'GET', path: '/audit/verify', action: 'admin.audit.verify', summary: "Recompute the tenant's hash chain", tenanted: true,
    response: AuditVerdict,
    handle: ({ store, tenant }) => store.verifyAudit(tenant),
  });
}
