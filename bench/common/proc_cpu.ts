/**
 * CPU time a process (all its threads) or one of its threads has used, from
 * Linux's /proc (utime + stime). Same-run CPU per unit of work holds up on a
 * loaded machine far better than throughput does: what other processes take
 * slows a round down but adds little to the work the gateway does per turn.
 * Undefined where /proc is missing (macOS, Windows).
 */
import { readFileSync } from 'node:fs';

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
