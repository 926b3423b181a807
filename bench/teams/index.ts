/**
 * `troupe bench teams`: one team run on an in-process gateway with the
 * simulated provider. The lead's team_task_create calls go to the coordinator
 * exactly as a lead agent's do; members run on the actor workers. With
 * `--fault worker-kill` a worker is killed every `killEveryMs` while the run
 * lasts. Reports throughput, create → done percentiles and the books: tasks
 * lost, duplicated and stuck (all must be 0).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../gateway/config.js';
import { startGateway } from '../../gateway/gateway.js';
import type { TeamReply } from '../../actors/team/protocol.js';
import { BOOKS, type TeamRunBooks } from './check.js';

export interface TeamsBenchOptions {
  tasks: number;
  members: number;
  workers: number;
  fault?: 'worker-kill';
  killEveryMs: number;
  /** Most kills in one run. */
  maxKills: number;
  /** The run must end within this; what is unfinished then counts as stuck. */
  timeoutMs: number;
  /** Simulated tokens per member reply, and delay per token. */
  tokens: number;
  latencyMs: number;
}

export interface TeamsBenchResult {
  benchmark: 'teams';
  date: string;
  settings: TeamsBenchOptions;
  runStatus: string;
  elapsedMs: number;
  tasksPerSec: number;
  createToDoneMs: { p50: number; p99: number; max: number };
  counts: { created: number; done: number; failed: number; cancelled: number; lost: number; duplicated: number; stuck: number; deliveredOnce: number };
  kills: number;
  workerReplacements: number;
}

export const TEAMS_BENCH_DEFAULTS: TeamsBenchOptions = {
  tasks: 100, members: 4, workers: 2, killEveryMs: 1_000, maxKills: 10, timeoutMs: 120_000, tokens: 16, latencyMs: 5,
};

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function runTeamsBench(o: TeamsBenchOptions): Promise<TeamsBenchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'troupe-bench-teams-'));
  const members = Array.from({ length: o.members }, (_, i) => `m${i + 1}`);
  const env = { TROUPE_DATA_DIR: dataDir, TROUPE_PORT: '0', TROUPE_WORKERS: String(o.workers), TROUPE_JWT_SECRET: 'bench-teams-secret-long-enough-for-hs256' };
  const gw = await startGateway({
    ...loadConfig(env),
    enableFaults: o.fault !== undefined,
    agents: [
      { id: 'lead', model: 'sim', provider: { kind: 'simulated', tokens: 4 } },
      ...members.map((id) => ({ id, model: 'sim', provider: { kind: 'simulated' as const, tokens: o.tokens, latencyMs: o.latencyMs } })),
    ],
    teams: [{
      id: 'bench', lead: 'lead', members,
      limits: { maxTasks: o.tasks, leaseMs: 2_000, maxAttempts: 50, tokenBudget: 1e12, maxDurationMs: o.timeoutMs, leadTurnTimeoutMs: 10_000 },
    }],
  });
  const tenant = 'bench';
  const coordinator = gw.teams;
  let kills = 0;
  let killer: NodeJS.Timeout | undefined;
  try {
    if (coordinator === undefined) throw new Error('teams need a store');
    let runId = '';
    let ended!: () => void;
    const end = new Promise<void>((resolve) => { ended = resolve; });
    const unwatch = coordinator.watch(tenant, { teamId: 'bench' }, (event, payload) => {
      if (event.startsWith('team.run.') && payload.runId === runId) ended();
    });
    const started = performance.now();
    const caller = { tenant, sessionKey: 'bench-lead', agent: 'lead', chain: [] };
    for (let i = 0; i < o.tasks; i++) {
      const reply = (await coordinator.ref.ask({ t: 'create', caller, args: { title: `task ${i + 1}`, input: `Do part ${i + 1}.` } }, { timeoutMs: 60_000 })) as TeamReply;
      if (reply.isError) throw new Error(`create failed: ${reply.content}`);
      runId ||= (JSON.parse(reply.content) as { runId: string }).runId;
    }
    if (o.fault === 'worker-kill') {
      killer = setInterval(() => {
        if (kills >= o.maxKills) return;
        kills++;
        void gw.backend.injectFault({ tenant, user: 'bench', scopes: [] }, { kind: 'worker-kill', worker: gw.system.workers?.hosts[kills % o.workers] }).catch(() => undefined);
      }, o.killEveryMs);
    }
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, o.timeoutMs).unref());
    await Promise.race([end, timeout]);
    const elapsedMs = performance.now() - started;
    clearInterval(killer);
    unwatch();
    // Let the last lead turn's messages reach the store before reading the books.
    await new Promise((r) => setTimeout(r, 1_000));
    await gw.store?.flush(30_000);
    const books = await gw.store!.call<unknown, TeamRunBooks>(BOOKS, 'teamRunBooksCall', { tenant, runId });
    const sorted = [...books.createToDoneMs].sort((a, b) => a - b);
    const done = books.byStatus.done ?? 0;
    return {
      benchmark: 'teams', date: new Date().toISOString(), settings: o, runStatus: books.runStatus,
      elapsedMs: Math.round(elapsedMs), tasksPerSec: Math.round((done / (elapsedMs / 1000)) * 10) / 10,
      createToDoneMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0 },
      counts: {
        created: books.tasks, done, failed: books.byStatus.failed ?? 0, cancelled: books.byStatus.cancelled ?? 0,
        lost: books.lost, duplicated: books.duplicated, stuck: books.stuck, deliveredOnce: books.deliveredOnce,
      },
      kills, workerReplacements: gw.system.metricsSnapshot().workerReplacements,
    };
  } finally {
    clearInterval(killer);
    await gw.shutdown();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
