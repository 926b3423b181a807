/**
 * `troupe bench runtime`: the kernel's microbenchmarks, one JSON summary.
 * Cross-thread numbers sit beside a raw MessagePort baseline measured in the
 * same run (one message per postMessage), with the ratio.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ActorSystem, type ActorContext, type ActorRef, type Behavior, type ModuleProps } from '../../runtime/index.js';
import { latencyUs, now, round } from './stats.js';

export interface RuntimeBenchOptions {
  /** Tiny sizes: checks that every benchmark runs (CI smoke), not speed. */
  quick?: boolean;
  /** Progress lines go here (stderr by default); the JSON goes to stdout. */
  log?: (line: string) => void;
}

const ACTORS = new URL('./actors.js', import.meta.url).href;
const mod = (name: string): ModuleProps => ({ module: ACTORS, export: name });

function sizes(quick: boolean) {
  return quick
    ? { tell: 50_000, pingPong: 20_000, asks: 2_000, lifecycles: 5_000, idle: 5_000, skynet: 10_000, cross: 50_000, crossAsks: 500 }
    : { tell: 10_000_000, pingPong: 2_000_000, asks: 200_000, lifecycles: 300_000, idle: 100_000, skynet: 1_000_000, cross: 3_000_000, crossAsks: 20_000 };
}

export async function tellThroughput(n: number): Promise<number> {
  const sys = new ActorSystem({ defaultMailboxCapacity: 1 << 20 });
  let count = 0;
  const ref = sys.spawn<number>(() => ({ receive: () => { count++; } }));
  const chunk = 500_000;
  const t0 = now();
  for (let sent = 0; sent < n;) {
    const end = Math.min(n, sent + chunk);
    for (let i = sent; i < end; i++) ref.tell(i);
    sent = end;
    await ref.ask(-1);
  }
  const ms = now() - t0;
  await sys.shutdown(100);
  if (count < n) throw new Error('tell benchmark lost messages');
  return n / (ms / 1000);
}

export async function pingPong(exchanges: number): Promise<number> {
  const sys = new ActorSystem();
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  type Ball = { n: number };
  const ponger = sys.spawn<Ball>(() => ({ receive: (b, ctx) => { ctx.sender?.tell(b, ctx.self); } }));
  const pinger = sys.spawn<Ball>(() => ({
    receive(b, ctx: ActorContext<Ball>) {
      if (b.n >= exchanges) finish();
      else ponger.tell({ n: b.n + 1 }, ctx.self);
    },
  }));
  const t0 = now();
  ponger.tell({ n: 0 }, pinger);
  await finished;
  const ms = now() - t0;
  await sys.shutdown(100);
  return exchanges / (ms / 1000);
}

export async function sameThreadAsk(n: number) {
  const sys = new ActorSystem();
  const ref = sys.spawn<number>(() => ({ receive: (x) => x }));
  for (let i = 0; i < Math.min(n, 20_000); i++) await ref.ask(i); // warm-up
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await ref.ask(i);
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  await sys.shutdown(100);
  return latencyUs(samples);
}

export async function lifecycles(n: number): Promise<number> {
  const sys = new ActorSystem();
  const behavior: Behavior = { receive: () => undefined };
  const t0 = now();
  for (let i = 0; i < n; i++) {
    const ref = sys.spawn(() => behavior);
    await sys.stop(ref);
  }
  const ms = now() - t0;
  await sys.shutdown(100);
  return n / (ms / 1000);
}

export function idleActorBytes(n: number): { heapBytesPerActor: number; rssBytesPerActor: number } {
  const probe = fileURLToPath(new URL('./idle_probe.js', import.meta.url));
  const out = execFileSync(process.execPath, ['--expose-gc', probe, String(n)], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1) as string) as { heapBytesPerActor: number; rssBytesPerActor: number };
}

/** Skynet: a tree of actors (fan-out 10) whose leaves are 0..n-1, summed back up. */
export async function skynet(n: number): Promise<{ ms: number; sum: number; actors: number }> {
  const sys = new ActorSystem();
  let actors = 0;
  type Req = { num: number; size: number; parent: ActorRef<number> | undefined };
  let result!: (sum: number) => void;
  const done = new Promise<number>((r) => (result = r));
  const node = (): Behavior<Req | number> => {
    actors++;
    let pending = 0;
    let sum = 0;
    let parent: ActorRef<number> | undefined;
    return {
      receive(msg, ctx) {
        if (typeof msg === 'number') {
          sum += msg;
          if (--pending === 0) {
            if (parent === undefined) result(sum);
            else parent.tell(sum);
            ctx.stop();
          }
          return;
        }
        parent = msg.parent;
        if (msg.size === 1) {
          if (parent === undefined) result(msg.num);
          else parent.tell(msg.num);
          ctx.stop();
          return;
        }
        const step = msg.size / 10;
        pending = 10;
        for (let i = 0; i < 10; i++) {
          ctx.spawn(node, { restart: 'temporary' }).tell({ num: msg.num + i * step, size: step, parent: ctx.self as ActorRef<number> });
        }
      },
    };
  };
  const t0 = now();
  sys.spawn(node, { restart: 'temporary' }).tell({ num: 0, size: n, parent: undefined });
  const sum = await done;
  const ms = now() - t0;
  await sys.shutdown(1_000);
  return { ms: round(ms, 1), sum, actors };
}

export async function crossThread(n: number, asks: number) {
  const sys = await ActorSystem.start({ pool: { workers: 1 }, defaultMailboxCapacity: 1 << 22 });
  const counterRef = sys.spawn(mod('counter'), { placement: { worker: 1 } });
  const echoRef = sys.spawn(mod('echo'), { placement: { worker: 1 } });
  await counterRef.ask('count');
  // One-way: tells in chunks, then a barrier ask (same link, so it arrives after them).
  const chunk = 200_000;
  const t0 = now();
  for (let sent = 0; sent < n;) {
    const end = Math.min(n, sent + chunk);
    for (let i = sent; i < end; i++) counterRef.tell({ n: i });
    sent = end;
    await counterRef.ask('count');
  }
  const oneWayMs = now() - t0;
  const counted = (await counterRef.ask('count')) as number;
  if (counted !== n) throw new Error(`cross-thread lost messages: ${counted}/${n}`);
  for (let i = 0; i < 1_000; i++) await echoRef.ask(i);
  const samples = new Float64Array(asks);
  for (let i = 0; i < asks; i++) {
    const s = process.hrtime.bigint();
    await echoRef.ask(i);
    samples[i] = Number(process.hrtime.bigint() - s);
  }
  await sys.shutdown(1_000);
  return { oneWayPerSec: n / (oneWayMs / 1000), ask: latencyUs(samples) };
}

export async function rawPostMessage(n: number, asks: number) {
  const worker = new Worker(new URL('./raw_worker.js', import.meta.url));
  await new Promise((r) => worker.once('online', r));
  const next = (): Promise<unknown> => new Promise((r) => worker.once('message', r));
  // One-way in the same chunking as the actor run; the worker reports at the count.
  const chunk = 200_000;
  const t0 = now();
  for (let sent = 0; sent < n;) {
    const end = Math.min(n, sent + chunk);
    worker.postMessage({ kind: 'expect', n: end - sent });
    const reported = next();
    for (let i = sent; i < end; i++) worker.postMessage({ kind: 'one', i });
    await reported;
    sent = end;
  }
  const oneWayMs = now() - t0;
  for (let i = 0; i < 1_000; i++) {
    const p = next();
    worker.postMessage({ kind: 'ping', i });
    await p;
  }
  const samples = new Float64Array(asks);
  for (let i = 0; i < asks; i++) {
    const s = process.hrtime.bigint();
    const p = next();
    worker.postMessage({ kind: 'ping', i });
    await p;
    samples[i] = Number(process.hrtime.bigint() - s);
  }
  await worker.terminate();
  return { oneWayPerSec: n / (oneWayMs / 1000), roundTrip: latencyUs(samples) };
}

export async function runRuntimeBench(options: RuntimeBenchOptions = {}) {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const s = sizes(options.quick === true);
  log(`tell throughput (${s.tell.toLocaleString()} messages)…`);
  const tell = await tellThroughput(s.tell);
  log(`ping-pong (${s.pingPong.toLocaleString()} exchanges)…`);
  const pp = await pingPong(s.pingPong);
  log(`same-thread ask (${s.asks.toLocaleString()} sequential asks)…`);
  const ask = await sameThreadAsk(s.asks);
  log(`spawn→stop (${s.lifecycles.toLocaleString()} lifecycles)…`);
  const life = await lifecycles(s.lifecycles);
  // Cross-thread runs (and their baseline) go before skynet, whose million-actor
  // heap would otherwise slow every later round trip with GC.
  log(`cross-thread actors (${s.cross.toLocaleString()} one-way, ${s.crossAsks.toLocaleString()} asks)…`);
  const cross = await crossThread(s.cross, s.crossAsks);
  log('raw MessagePort baseline (same sizes)…');
  const raw = await rawPostMessage(s.cross, s.crossAsks);
  log(`idle actors (${s.idle.toLocaleString()}, separate process)…`);
  const idle = idleActorBytes(s.idle);
  log(`skynet (${s.skynet.toLocaleString()} leaves)…`);
  const sky = await skynet(s.skynet);
  return {
    benchmark: 'runtime',
    quick: options.quick === true,
    date: new Date().toISOString(),
    machine: { cpus: availableParallelism(), model: cpus()[0]?.model ?? 'unknown', memGiB: round(totalmem() / 2 ** 30, 1), node: process.version },
    results: {
      tellPerSec: round(tell),
      pingPongExchangesPerSec: round(pp),
      sameThreadAskUs: ask,
      spawnStopPerSec: round(life),
      idleActor: { actors: s.idle, ...idle },
      skynet: { leaves: s.skynet, ...sky },
      crossThread: {
        oneWayPerSec: round(cross.oneWayPerSec),
        rawPostMessageOneWayPerSec: round(raw.oneWayPerSec),
        oneWayRatio: round(cross.oneWayPerSec / raw.oneWayPerSec, 2),
        askUs: cross.ask,
        rawPostMessageRoundTripUs: raw.roundTrip,
        askP50Ratio: round(cross.ask.p50 / raw.roundTrip.p50, 2),
      },
    },
    targets: {
      tellPerSec: 10_000_000, sameThreadAskP50Us: 2, idleActorBytes: 500, skynetMs: 1_500,
      crossThreadOneWayPerSec: 2_000_000, crossThreadOneWayRatio: 3, crossThreadAskP50Us: 30,
    },
  };
}
