import type { Embedder } from './embedder.js';
import { normalize } from './normalize.js';

/**
 * A deterministic, offline embedder: "feature hashing" of words and character
 * trigrams into `dimension` buckets with a hash-derived sign, then L2 normalisation.
 * It knows no synonyms; it rewards shared words and shared word pieces
 * ("deploy" ~ "deployment"), which is enough for memory recall in tests and demos.
 * It is the offline default only: configure a provider's embeddings (docs/data.md)
 * for semantic recall ("car" ~ "automobile").
 */
export class HashEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;

  constructor(dimension = 256) {
    if (!Number.isInteger(dimension) || dimension < 8 || dimension > 4096) {
      throw new RangeError('dimension must be an integer in [8, 4096]');
    }
    this.dimension = dimension;
    this.id = `hash:fnv1a:${dimension}`;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(input: string): Float32Array {
    const v = new Float32Array(this.dimension);
    const words = input.toLowerCase().normalize('NFKC').match(/[\p{L}\p{N}]+/gu) ?? [];
    for (const word of words) {
      this.add(v, `w:${word}`, 1);
      const padded = ` ${word} `;
      for (let i = 0; i + 3 <= padded.length; i++) this.add(v, `g:${padded.slice(i, i + 3)}`, 0.5);
    }
    return normalize(v);
  }

  private add(v: Float32Array, feature: string, weight: number): void {
    const h = fnv1a(feature);
    // Low bits pick the bucket, the top bit the sign, so collisions cancel on average.
    v[h % this.dimension] += (h & 0x80000000) === 0 ? weight : -weight;
  }
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
