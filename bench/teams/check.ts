/**
 * The books of one team run, read back from the store after it: what the board
 * says, how many times the audit log saw each task done, and how many times
 * each outcome reached the lead's session (its persisted history). The chaos
 * test and `troupe bench teams` both judge a run by this.
 */
import type { Store } from '../../store/index.js';

export interface TeamRunBooks {
  runStatus: string;
  tasks: number;
  byStatus: Record<string, number>;
  /** Not finished (pending, claimed, running, in review) after the run. */
  stuck: number;
  /** Done more than once (audit), or delivered to the lead more than once. */
  duplicated: number;
  /** Finished but its outcome never reached the lead. */
  lost: number;
  /** Delivered exactly once. */
  deliveredOnce: number;
  /** create → done, per done task (ms, from the store's clock). */
  createToDoneMs: number[];
}

const OUTCOME = /^- task #\d+ ([0-9a-f-]{36}) "/gm;
const MAX_PAGES = 200;

export async function teamRunBooks(store: Store, tenant: string, runId: string): Promise<TeamRunBooks> {
  return store.withTenant(tenant, async (s) => {
    const run = await s.teamRuns.get(runId);
    if (run === null) throw new Error(`no team run ${runId}`);
    const tasks = await s.teamTasks.list(run.teamId, { runId, limit: 1000 });
    const byStatus: Record<string, number> = {};
    for (const t of tasks) byStatus[t.status] = (byStatus[t.status] ?? 0) + 1;
    const doneRows = new Map<string, number>();
    let afterSeq = 0;
    for (let page = 0; page < MAX_PAGES; page++) {
      const rows = await s.audit.list({ limit: 1000, afterSeq });
      if (rows.length === 0) break;
      for (const r of rows) if (r.action === 'team.task.done' && r.target) doneRows.set(r.target, (doneRows.get(r.target) ?? 0) + 1);
      afterSeq = rows[rows.length - 1].seq;
    }
    const delivered = new Map<string, number>();
    const session = await s.sessions.getByKey(run.leadSession);
    if (session !== null) {
      let after: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const res = await s.messages.list(session.id, { limit: 500, ...(after === undefined ? {} : { after }) });
        for (const m of res.items) {
          if (m.role !== 'user' || !m.content.startsWith(`[team ${run.teamId} · run ${run.id}]`)) continue;
          for (const hit of m.content.matchAll(OUTCOME)) delivered.set(hit[1], (delivered.get(hit[1]) ?? 0) + 1);
        }
        if (res.nextCursor === null) break;
        after = res.nextCursor;
      }
    }
    let stuck = 0;
    let duplicated = 0;
    let lost = 0;
    let deliveredOnce = 0;
    const createToDoneMs: number[] = [];
    for (const t of tasks) {
      if (!['done', 'failed', 'cancelled'].includes(t.status)) stuck++;
      const d = delivered.get(t.id) ?? 0;
      if ((doneRows.get(t.id) ?? 0) > 1 || d > 1) duplicated++;
      else if (d === 1) deliveredOnce++;
      if (d === 0 && ['done', 'failed', 'cancelled'].includes(t.status)) lost++;
      if (t.status === 'done' && t.finishedAt !== null) createToDoneMs.push(t.finishedAt.getTime() - t.createdAt.getTime());
    }
    return { runStatus: run.status, tasks: tasks.length, byStatus, stuck, duplicated, lost, deliveredOnce, createToDoneMs };
  });
}

/** This module, for running teamRunBooksCall on the gateway's store worker (StoreClient.call). */
export const BOOKS = new URL(import.meta.url).href;

/** teamRunBooks as a StoreCall: `(store, args)`, run where the database is. */
export function teamRunBooksCall(store: Store, a: { tenant: string; runId: string }): Promise<TeamRunBooks> {
  return teamRunBooks(store, a.tenant, a.runId);
}
