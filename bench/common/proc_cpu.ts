/**
 * CPU time a process (all its threads) or one of its threads has used, from
 * Linux's /proc (utime + stime). Same-run CPU per unit of work holds up on a
 * loaded machine far better than throughput does: what other processes take
 * slows a round down but adds little to the work the gateway does per turn.
 * Undefined where /proc is missing (macOS, Windows). `cpuSnapshot`/`cpuSpent`
 * split it by thread (`bench channel`: main, each worker, the store worker).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: the unit of /proc's CPU times, 100 on every Linux Troupe runs on. */
const TICKS_PER_SECOND = 100;

/** utime + stime in seconds from a /proc stat line (the command name, in parentheses, may hold spaces). */
function statCpuSeconds(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** The process's CPU seconds so far, every thread counted (worker threads and the engine's own). */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    return statCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** One thread's CPU seconds so far (the main thread's tid is the pid). */
export function threadCpuSeconds(pid: number, tid: number): number | undefined {
  try {
    return statCpuSeconds(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Every thread of a process at one moment: CPU seconds and name per thread id. */
export type CpuSnapshot = Map<number, { name: string; seconds: number }>;

/**
 * Every thread of `pid` now (empty where /proc is missing); a thread that has
 * exited is gone, with its CPU, so measure only threads that outlive the
 * interval (the gateway's do). Node 20 names its
 * main thread and its worker threads alike (`node`; the main thread is
 * reported as `main`), libuv's pool `libuv-worker`, V8's helpers `V8 DefaultWorke`.
 */
export function cpuSnapshot(pid: number): CpuSnapshot {
  const out: CpuSnapshot = new Map();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tids) {
    const tid = Number(t);
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === pid ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      out.set(tid, { name, seconds: statCpuSeconds(stat) });
    } catch {
      // the thread exited between the listing and the read
    }
  }
  return out;
}

/**
 * CPU seconds spent between two snapshots by thread, plus `total`. A thread is
 * keyed by its name, or `name:tid` where several share one (Node's worker
 * threads are all `node`), so the same thread has the same key in every
 * interval of one process; threads under 1 % of the total are summed as `other`.
 *
 *   cpuSnapshot(pid) ─► work ─► cpuSnapshot(pid) ─► cpuSpent ─► { total, main, 'node:4711', other }
 */
export function cpuSpent(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const names = new Map<string, number>();
  for (const a of after.values()) names.set(a.name, (names.get(a.name) ?? 0) + 1);
  const spent: [string, number][] = [];
  let total = 0;
  for (const [tid, a] of after) {
    const s = a.seconds - (before.get(tid)?.seconds ?? 0);
    if (s <= 0) continue;
    spent.push([(names.get(a.name) ?? 0) > 1 ? `${a.name}:${tid}` : a.name, s]);
    total += s;
  }
  const out: Record<string, number> = { total };
  for (const [key, s] of spent) {
    const k = s < total / 100 ? 'other' : key;
    out[k] = (out[k] ?? 0) + s;
  }
  return out;
}
