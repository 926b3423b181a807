/**
 * Turns text into fixed-length vectors. `id` names the vector space: the store
 * keeps it with every vector and only compares vectors of one id, so changing
 * models never mixes spaces. Vectors need not be unit length: the store
 * normalises them (normalize.ts), so cosine is a dot product everywhere.
 * Model-backed embedders live in providers/ (embed_*.ts) and fit this shape.
 */
export interface Embedder {
  readonly id: string;
  readonly dimension: number;
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;
}

/** The vector search the database can do, decided at start (migration 005). */
export type VectorSearch = 'pgvector-hnsw' | 'pgvector-exact' | 'portable';
