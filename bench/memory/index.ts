/**
 * `troupe bench memory`: memory search latency at N memories (default 100,000)
 * with pgvector's HNSW index against the portable fallback (a bounded dot-product
 * scan over real[]), on embedded PGlite, same data, same queries, same run.
 *
 *   1. insert N memories in batches of 1000 rows per statement (stops at
 *      --max-insert) with the offline hash embedder (no network: the database
 *      is measured, not a provider)
 *   2. portable: Q searches with the default scanLimit (2000) and the largest (20000)
 *   3. prepareVectors(): the generated vec column and the HNSW index, built in bulk
 *   4. pgvector-hnsw: the same Q searches
 *
 * The log (stderr) shows progress: rows inserted with an ETA every 10,000 rows,
 * queries done with the p50 so far every PROGRESS_MS, and each phase's start and
 * end. The index build is one statement and PGlite runs on this thread, so it is
 * announced with its row count and timed, but cannot report while it runs.
 *
 * Each search is the whole memory.search (query embedding, full text, vector side,
 * fusion), as the memory_search tool runs it. Latency is wall time per search, one
 * at a time (PGlite is one connection).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HashEmbedder, PgliteDb, Store, type VectorSearch } from '../../store/index.js';

export interface MemoryBenchOptions {
  memories: number;
  queries: number;
  dimensions: number;
  /** Stop inserting after this long; the report says how many were inserted. */
  maxInsertMs: number;
  log?: (line: string) => void;
}

export interface SearchStats {
  mode: VectorSearch;
  scanLimit?: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** Searches whose vector side found at least one candidate. */
  withVectorHits: number;
}

export interface MemoryBenchResult {
  benchmark: 'memory';
  date: string;
  settings: Omit<MemoryBenchOptions, 'log'>;
  inserted: number;
  insertSec: number;
  indexBuildSec: number;
  results: SearchStats[];
  /** portable (default scan) p50 / HNSW p50. */
  ratio: number;
}

const BATCH = 1000;
const PROGRESS_MS = 10_000;
const TOPICS = ['deploy', 'budget', 'kubernetes', 'invoice', 'holiday', 'printer', 'coffee', 'database', 'release', 'meeting', 'laptop', 'contract'];

/** Deterministic pseudo-random words (mulberry32), so every run inserts the same memories. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sentence(next: () => number): string {
  const words = [TOPICS[Math.floor(next() * TOPICS.length)]];
  const n = 6 + Math.floor(next() * 8);
  for (let i = 0; i < n; i++) words.push(`w${Math.floor(next() * 5000)}`);
  return words.join(' ');
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function runMemoryBench(o: MemoryBenchOptions): Promise<MemoryBenchResult> {
  const log = o.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'troupe-bench-memory-'));
  const embedder = new HashEmbedder(o.dimensions);
  const db = await PgliteDb.open(join(dir, 'db'));
  const store = new Store(db, embedder);
  try {
    await store.migrate();
    await store.tenants.create({ id: 'bench', name: 'bench' });
    const next = rng(42);

    const t0 = performance.now();
    let inserted = 0;
    while (inserted < o.memories && performance.now() - t0 < o.maxInsertMs) {
      const n = Math.min(BATCH, o.memories - inserted);
      const texts = Array.from({ length: n }, () => sentence(next));
      const vectors = await embedder.embed(texts);
      await store.withTenant('bench', (s) => s.q.query(
        `INSERT INTO memory (namespace, content, embedding, embedder)
         SELECT 'agent:bench', c, string_to_array(v, ',')::real[], $3 FROM unnest($1::text[], $2::text[]) AS u(c, v)`,
        [texts, vectors.map((v) => Array.from(v).join(',')), embedder.id],
      ));
      inserted += n;
      const sec = (performance.now() - t0) / 1000;
      if (inserted % (BATCH * 10) === 0 || inserted === o.memories) {
        log(`inserted ${inserted}/${o.memories} in ${sec.toFixed(1)} s (eta ${((sec / inserted) * (o.memories - inserted)).toFixed(0)} s)`);
      }
    }
    const insertSec = (performance.now() - t0) / 1000;
    if (inserted < o.memories) log(`stopped inserting at ${inserted} after ${insertSec.toFixed(0)} s (--max-insert)`);
    await db.exec('ANALYZE memory');

    const queries = Array.from({ length: o.queries }, () => sentence(next).split(' ').slice(0, 4).join(' '));
    const measure = async (label: string, scanLimit?: number): Promise<SearchStats> => {
      const times: number[] = [];
      let withVectorHits = 0;
      const phaseStart = performance.now();
      let lastLog = phaseStart;
      for (const q of queries) {
        const start = performance.now();
        const hits = await store.recallFor('bench', q, { namespaces: ['agent:bench'], limit: 10, ...(scanLimit === undefined ? {} : { scanLimit }) });
        const end = performance.now();
        times.push(end - start);
        if (hits.some((h) => h.vectorRank !== null)) withVectorHits++;
        if (end - lastLog >= PROGRESS_MS && times.length < queries.length) {
          lastLog = end;
          const sofar = [...times].sort((a, b) => a - b);
          log(`  ${label}: ${times.length}/${queries.length} queries in ${((end - phaseStart) / 1000).toFixed(0)} s, p50 so far ${percentile(sofar, 50).toFixed(1)} ms`);
        }
      }
      times.sort((a, b) => a - b);
      log(`  ${label}: ${queries.length} queries in ${((performance.now() - phaseStart) / 1000).toFixed(1)} s, p50 ${percentile(times, 50).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms`);
      const r = (x: number): number => Math.round(x * 100) / 100;
      return {
        mode: store.vectorSearch, ...(scanLimit === undefined ? {} : { scanLimit }),
        p50Ms: r(percentile(times, 50)), p99Ms: r(percentile(times, 99)), meanMs: r(times.reduce((a, b) => a + b, 0) / times.length), withVectorHits,
      };
    };

    const results: SearchStats[] = [];
    for (const scan of [2000, 20_000]) {
      log(`searching: portable, scanLimit ${scan} (${o.queries} queries)`);
      results.push(await measure(`portable ${scan}`, scan));
    }
    // One statement: PGlite runs it on this thread, so nothing (not even a timer) can report until it ends.
    log(`building the pgvector column and HNSW index over ${inserted} memories (one statement, silent until done)…`);
    const t1 = performance.now();
    await store.prepareVectors();
    await db.exec('ANALYZE memory');
    const indexBuildSec = (performance.now() - t1) / 1000;
    log(`${store.vectorSearch} ready in ${indexBuildSec.toFixed(1)} s; searching (${o.queries} queries)`);
    results.push(await measure(store.vectorSearch));

    return {
      benchmark: 'memory',
      date: new Date().toISOString(),
      settings: { memories: o.memories, queries: o.queries, dimensions: o.dimensions, maxInsertMs: o.maxInsertMs },
      inserted,
      insertSec: Math.round(insertSec * 10) / 10,
      indexBuildSec: Math.round(indexBuildSec * 10) / 10,
      results,
      ratio: Math.round((results[0].p50Ms / Math.max(results[results.length - 1].p50Ms, 0.001)) * 100) / 100,
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
