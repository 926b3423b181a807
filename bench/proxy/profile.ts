/**
 * `node dist/bench/proxy/profile.js DIR|FILE… [--top N]`: where the time went
 * in `.cpuprofile` files (from `node --cpu-prof`, one per thread). For each
 * profile: busy time (samples that were not idle), then the top functions by
 * self time, the top places by self time (a package, a Node internal, a
 * Troupe file), and the top functions by inclusive time (self plus callees,
 * each stack counted once even when a function recurses). GC and idle are
 * shown apart; percentages are of busy time.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ArgvError, parseArgv } from '../../gateway/argv.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

/** The JSON V8 writes for `--cpu-prof`. */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Row {
  name: string;
  ms: number;
  /** Percent of busy time. */
  pct: number;
}

export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  idleMs: number;
  gcMs: number;
  bySelf: Row[];
  byPlace: Row[];
  byInclusive: Row[];
}

const IDLE = '(idle)';
const GC = '(garbage collector)';

/** Where a frame lives: `openai`, `node:internal/…`, `troupe actors/agent.js`, or a V8 pseudo-frame. */
export function placeOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  // node:internal/deps/undici/… is the fetch client; other internals by their folder
  if (url.startsWith('node:')) return url.split('/').slice(0, url.startsWith('node:internal/deps/') ? 3 : 2).join('/');
  const dist = url.lastIndexOf('/dist/');
  return dist >= 0 ? `troupe ${url.slice(dist + '/dist/'.length)}` : url;
}

const functionKey = (f: CallFrame): string =>
  f.url === '' ? f.functionName || '(anonymous)' : `${f.functionName || '(anonymous)'} ${placeOf(f.url, f.functionName)}:${f.lineNumber + 1}`;

function top(map: Map<string, number>, busyMs: number, n: number): Row[] {
  return [...map].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, pct: busyMs === 0 ? 0 : Math.round((us / 1000 / busyMs) * 1000) / 10 }));
}

const add = <K>(m: Map<K, number>, k: K, v: number): void => {
  m.set(k, (m.get(k) ?? 0) + v);
};

export function summarizeProfile(p: CpuProfile, n = 15): ProfileSummary {
  const byId = new Map(p.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of p.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  // a sample's time is the delta to the next sample
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    add(selfUs, p.samples[i], dt);
  }
  const self = new Map<string, number>();
  const place = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let idleUs = 0;
  let gcUs = 0;
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined) continue;
    totalUs += us;
    const f = node.callFrame;
    if (f.functionName === IDLE) {
      idleUs += us;
      continue;
    }
    if (f.functionName === GC) gcUs += us;
    add(self, functionKey(f), us);
    add(place, placeOf(f.url, f.functionName), us);
    // every function on the stack once, however often it recurses
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (frame === undefined || frame.functionName === '(root)') continue;
      const k = functionKey(frame);
      if (seen.has(k)) continue;
      seen.add(k);
      add(inclusive, k, us);
    }
  }
  const busyMs = (totalUs - idleUs) / 1000;
  return {
    totalMs: Math.round(totalUs / 1000),
    busyMs: Math.round(busyMs),
    idleMs: Math.round(idleUs / 1000),
    gcMs: Math.round(gcUs / 1000),
    bySelf: top(self, busyMs, n),
    byPlace: top(place, busyMs, n),
    byInclusive: top(inclusive, busyMs, n),
  };
}

function profileFiles(paths: string[]): string[] {
  return paths.flatMap((p) => (statSync(p).isDirectory()
    ? readdirSync(p).filter((f) => f.endsWith('.cpuprofile')).sort().map((f) => join(p, f))
    : [p]));
}

function render(file: string, s: ProfileSummary): string {
  const rows = (title: string, r: Row[]) => [`  ${title}`, ...r.map((x) => `    ${x.pct.toFixed(1).padStart(5)}%  ${x.ms.toFixed(1).padStart(9)} ms  ${x.name}`)];
  return [
    `${basename(file)}: ${s.totalMs} ms sampled, busy ${s.busyMs} ms, idle ${s.idleMs} ms, GC ${s.gcMs} ms (${s.busyMs === 0 ? 0 : ((s.gcMs / s.busyMs) * 100).toFixed(1)}% of busy)`,
    ...rows('self time by place', s.byPlace),
    ...rows('self time by function', s.bySelf),
    ...rows('inclusive time by function', s.byInclusive),
  ].join('\n');
}

function main(argv: string[]): void {
  let paths: string[] = [];
  let n = 15;
  try {
    const { values, positionals } = parseArgv(argv, { top: { type: 'string' } }, { positionals: Infinity });
    paths = positionals;
    if (values.top !== undefined) n = values.top === '' ? NaN : Number(values.top);
  } catch (err) {
    if (!(err instanceof ArgvError)) throw err;
    process.stderr.write(`profile: ${err.message}\n`);
  }
  if (paths.length === 0 || !Number.isInteger(n) || n < 1) {
    process.stderr.write('usage: node dist/bench/proxy/profile.js DIR|FILE.cpuprofile ... [--top N]\n');
    process.exit(2);
  }
  for (const file of profileFiles(paths)) {
    const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    process.stdout.write(render(file, summarizeProfile(p, n)) + '\n\n');
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
