import type { Queryable } from '../db.js';
import { StoreError, translateDbError } from '../errors.js';
import { camelRow } from '../rows.js';
import type { Embedder } from '../memory/embedder.js';
import { reciprocalRankFusion } from '../memory/fusion.js';
import { jsonObject, notFound, pageLimit, text } from '../validate.js';

export interface MemoryItem {
  tenantId: string;
  id: string;
  namespace: string;
  content: string;
  metadata: Record<string, unknown> | null;
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

export interface MemorySearchOptions {
  namespace?: string;
  limit?: number;
  /** How many of the most recent memories the vector side scores (the fallback's bound). */
  scanLimit?: number;
}

export interface MemoryRepo {
  save(input: { content: string; namespace?: string; metadata?: Record<string, unknown> }): Promise<MemoryItem>;
  search(query: string, opts?: MemorySearchOptions): Promise<MemoryHit[]>;
  remove(id: string): Promise<void>;
}

/** Candidates taken from each side before fusion. */
const CANDIDATES = 50;
const DEFAULT_SCAN = 2000;
const MAX_SCAN = 20_000;

const COLUMNS = 'tenant_id, id, namespace, content, metadata, created_at';

const toItem = (r: Record<string, unknown>): MemoryItem => camelRow<MemoryItem>(r);

/**
 * Hybrid memory over the portable schema: embeddings are real[] and cosine is a dot
 * product computed in SQL over the `scanLimit` most recent rows of the namespace
 * (vectors are normalised). Full text uses the stored tsvector and its GIN index over
 * the whole namespace. The two ranked lists are fused with RRF.
 */
export class SqlMemoryRepo implements MemoryRepo {
  constructor(
    private readonly q: Queryable,
    private readonly embedder: Embedder,
  ) {}

  async save(input: { content: string; namespace?: string; metadata?: Record<string, unknown> }): Promise<MemoryItem> {
    const content = text('content', input.content, 32768);
    const [vector] = await this.embedder.embed([content]);
    const res = await this.q
      .query(
        `INSERT INTO memory (namespace, content, metadata, embedding) VALUES ($1, $2, $3, $4::real[])
         RETURNING ${COLUMNS}`,
        [
          text('namespace', input.namespace ?? 'default'),
          content,
          input.metadata === undefined ? null : JSON.stringify(jsonObject('metadata', input.metadata, 16 * 1024)),
          Array.from(vector),
        ],
      )
      .catch(translateDbError);
    return toItem(res.rows[0]);
  }

  async search(query: string, opts: MemorySearchOptions = {}): Promise<MemoryHit[]> {
    const q = text('query', query, 4000);
    const namespace = text('namespace', opts.namespace ?? 'default');
    const limit = pageLimit(opts.limit, 10, CANDIDATES);
    const scan = opts.scanLimit ?? DEFAULT_SCAN;
    if (!Number.isInteger(scan) || scan < 1 || scan > MAX_SCAN) {
      throw new StoreError('INVALID_REQUEST', `scanLimit must be an integer in [1, ${MAX_SCAN}]`);
    }
    const [vector] = await this.embedder.embed([q]);

    const textSide = await this.q.query<{ id: string }>(
      `SELECT m.id FROM memory m, websearch_to_tsquery('english', $2) query
       WHERE m.namespace = $1 AND m.tsv @@ query
       ORDER BY ts_rank_cd(m.tsv, query) DESC, m.created_at DESC LIMIT $3`,
      [namespace, q, CANDIDATES],
    );
    const vectorSide = await this.q.query<{ id: string }>(
      `SELECT c.id FROM (
         SELECT id, embedding, created_at FROM memory
         WHERE namespace = $1 AND cardinality(embedding) = $3
         ORDER BY created_at DESC LIMIT $4
       ) c
       CROSS JOIN LATERAL (SELECT sum(a * b) AS cosine FROM unnest(c.embedding, $2::real[]) AS u(a, b)) s
       WHERE s.cosine > 0
       ORDER BY s.cosine DESC, c.created_at DESC LIMIT $5`,
      [namespace, Array.from(vector), vector.length, scan, CANDIDATES],
    );

    const fused = reciprocalRankFusion([textSide.rows.map((r) => r.id), vectorSide.rows.map((r) => r.id)]).slice(0, limit);
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
}
