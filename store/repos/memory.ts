import type { Queryable } from '../db.js';
import { StoreError, translateDbError } from '../errors.js';
import { camelRow } from '../rows.js';
import type { Embedder, VectorSearch } from '../memory/embedder.js';
import { reciprocalRankFusion } from '../memory/fusion.js';
import { normalize } from '../memory/normalize.js';
import { jsonObject, notFound, pageLimit, text } from '../validate.js';

export interface MemoryItem {
  tenantId: string;
  id: string;
  namespace: string;
  content: string;
  metadata: Record<string, unknown> | null;
  /** Which embedder made the vector (only vectors of the current one are searched). */
  embedder: string;
  createdAt: Date;
}

export interface MemoryHit extends MemoryItem {
  /** Fused score (reciprocal rank fusion); higher is better. */
  score: number;
  /** 1-based rank in the full-text list, null when the text did not match. */
  textRank: number | null;
  /** 1-based rank in the vector list, null when outside the candidates. */
  vectorRank: number | null;
}

export interface MemorySaveInput {
  content: string;
  namespace?: string;
  metadata?: Record<string, unknown>;
  /** The content's vector when the caller embedded it already (outside the unit of work). */
  embedding?: Float32Array;
}

export interface MemorySearchOptions {
  /** Namespaces searched together (default ['default']); at most MAX_NAMESPACES. */
  namespaces?: readonly string[];
  limit?: number;
  /** Portable search only: how many of the most recent memories the vector side scores. */
  scanLimit?: number;
  /** The query's vector when the caller embedded it already. */
  embedding?: Float32Array;
}

export interface MemoryRepo {
  save(input: MemorySaveInput): Promise<MemoryItem>;
  search(query: string, opts?: MemorySearchOptions): Promise<MemoryHit[]>;
  remove(id: string): Promise<void>;
}

/** How the repo finds vectors: the embedder and what the database offers (Store decides). */
export interface MemoryIndex {
  embedder: Embedder;
  search: VectorSearch;
}

/** Candidates taken from each side before fusion. */
const CANDIDATES = 50;
const DEFAULT_SCAN = 2000;
const MAX_SCAN = 20_000;
export const MAX_NAMESPACES = 16;
/** HNSW candidate list; above CANDIDATES so the top 50 are found with good recall. */
const EF_SEARCH = 100;

const COLUMNS = 'tenant_id, id, namespace, content, metadata, embedder, created_at';

const toItem = (r: Record<string, unknown>): MemoryItem => camelRow<MemoryItem>(r);

/**
 * Hybrid memory: full text (the stored tsvector, GIN) and vector similarity, fused
 * with RRF. The vector side depends on `index.search`:
 * - pgvector: `ORDER BY vec::vector(d) <=> query` over every memory of the
 *   namespaces, through the embedder's HNSW index (iterative scan, so the tenant
 *   and namespace filters still fill the candidate list);
 * - portable: a dot product in SQL over the `scanLimit` most recent memories.
 * Either way only vectors of the current embedder are compared.
 */
export class SqlMemoryRepo implements MemoryRepo {
  constructor(
    private readonly q: Queryable,
    private readonly index: MemoryIndex,
  ) {}

  async save(input: MemorySaveInput): Promise<MemoryItem> {
    const content = text('content', input.content, 32768);
    const vector = this.vectorOf(input.embedding ?? (await this.index.embedder.embed([content]))[0]);
    const res = await this.q
      .query(
        `INSERT INTO memory (namespace, content, metadata, embedding, embedder) VALUES ($1, $2, $3, $4::real[], $5)
         RETURNING ${COLUMNS}`,
        [
          text('namespace', input.namespace ?? 'default'),
          content,
          input.metadata === undefined ? null : JSON.stringify(jsonObject('metadata', input.metadata, 16 * 1024)),
          Array.from(vector),
          this.index.embedder.id,
        ],
      )
      .catch(translateDbError);
    return toItem(res.rows[0]);
  }

  async search(query: string, opts: MemorySearchOptions = {}): Promise<MemoryHit[]> {
    const q = text('query', query, 4000);
    const namespaces = (opts.namespaces ?? ['default']).map((n) => text('namespace', n));
    if (namespaces.length === 0 || namespaces.length > MAX_NAMESPACES) {
      throw new StoreError('INVALID_REQUEST', `namespaces must hold 1 to ${MAX_NAMESPACES} names`);
    }
    const limit = pageLimit(opts.limit, 10, CANDIDATES);
    const scan = opts.scanLimit ?? DEFAULT_SCAN;
    if (!Number.isInteger(scan) || scan < 1 || scan > MAX_SCAN) {
      throw new StoreError('INVALID_REQUEST', `scanLimit must be an integer in [1, ${MAX_SCAN}]`);
    }
    const vector = this.vectorOf(opts.embedding ?? (await this.index.embedder.embed([q]))[0]);

    // Through a function so the GIN index is usable under RLS (migration 007 says why).
    const textSide = await this.q.query<{ id: string }>('SELECT id FROM troupe_memory_text_search($1::text[], $2, $3)', [namespaces, q, CANDIDATES]);
    const vectorSide = this.index.search === 'portable'
      ? await this.portableNearest(namespaces, vector, scan)
      : await this.pgvectorNearest(namespaces, vector);

    const fused = reciprocalRankFusion([textSide.rows.map((r) => r.id), vectorSide]).slice(0, limit);
    if (fused.length === 0) return [];
    const rows = await this.q.query(`SELECT ${COLUMNS} FROM memory WHERE id = ANY($1::text[])`, [fused.map((f) => f.id)]);
    const byId = new Map(rows.rows.map((r) => [r.id as string, toItem(r)]));
    const hits: MemoryHit[] = [];
    for (const f of fused) {
      const item = byId.get(f.id);
      if (item !== undefined) hits.push({ ...item, score: f.score, textRank: f.ranks[0], vectorRank: f.ranks[1] });
    }
    return hits;
  }

  async remove(id: string): Promise<void> {
    const res = await this.q.query('DELETE FROM memory WHERE id = $1', [text('id', id)]);
    if (res.rowCount === 0) throw notFound('memory', id);
  }

  /** The SQL of the pgvector side, for EXPLAIN in tests and the benchmark. */
  static pgvectorSql(dimension: number): string {
    // The typmod must be a literal for the planner to match the partial expression index.
    const d = Number.isInteger(dimension) && dimension > 0 ? dimension : 1;
    return `SELECT id FROM (
        SELECT id, (vec::vector(${d})) <=> ($3::real[])::vector(${d}) AS distance FROM memory
        WHERE embedder = $1 AND namespace = ANY($2::text[])
        ORDER BY (vec::vector(${d})) <=> ($3::real[])::vector(${d}) LIMIT $4
      ) c WHERE distance < 1 ORDER BY distance`;
  }

  private async pgvectorNearest(namespaces: string[], vector: Float32Array): Promise<string[]> {
    // Filters apply after the index scan; the iterative scan keeps fetching until the limit is met.
    await this.q.query(`SELECT set_config('hnsw.ef_search', '${EF_SEARCH}', true), set_config('hnsw.iterative_scan', 'strict_order', true)`);
    const res = await this.q.query<{ id: string }>(SqlMemoryRepo.pgvectorSql(vector.length), [
      this.index.embedder.id, namespaces, Array.from(vector), CANDIDATES,
    ]);
    return res.rows.map((r) => r.id);
  }

  /**
   * The `scan` most recent memories of the namespaces, scored by dot product. The
   * recent ones are found per namespace, each a walk down `memory_recent` in
   * created_at order, then merged: with `namespace = ANY(...)` the index cannot give
   * that order, and the database sorted every memory of the namespaces (vectors
   * and all, spilling to disk) to keep the newest. Only ids and times are merged;
   * the vectors are read for the rows kept.
   */
  private async portableNearest(namespaces: string[], vector: Float32Array, scan: number): Promise<string[]> {
    const res = await this.q.query<{ id: string }>(SqlMemoryRepo.portableSql, [this.index.embedder.id, namespaces, Array.from(vector), scan, CANDIDATES]);
    return res.rows.map((r) => r.id);
  }

  /** The SQL of the portable side ($1 embedder, $2 namespaces, $3 vector, $4 scan, $5 limit), for EXPLAIN in tests. */
  static readonly portableSql = `SELECT r.id FROM (
       SELECT m.id, m.created_at FROM unnest($2::text[]) AS ns(name)
       CROSS JOIN LATERAL (
         SELECT id, created_at FROM memory WHERE embedder = $1 AND namespace = ns.name ORDER BY created_at DESC LIMIT $4
       ) m
       ORDER BY m.created_at DESC LIMIT $4
     ) r
     JOIN memory v ON v.id = r.id
     CROSS JOIN LATERAL (SELECT sum(a * b) AS cosine FROM unnest(v.embedding, $3::real[]) AS u(a, b)) s
     WHERE s.cosine > 0
     ORDER BY s.cosine DESC, r.created_at DESC LIMIT $5`;

  private vectorOf(v: Float32Array | undefined): Float32Array {
    if (v === undefined || v.length !== this.index.embedder.dimension) {
      throw new StoreError('INVALID_REQUEST', `an embedding must have ${this.index.embedder.dimension} dimensions`);
    }
    return normalize(Float32Array.from(v));
  }
}
