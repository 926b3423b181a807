/** Turns text into fixed-length, L2-normalised vectors (so cosine = dot product). */
export interface Embedder {
  readonly dimension: number;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}
