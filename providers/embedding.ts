// The embedding contract: texts in, one vector per text out, in order. Each
// adapter speaks its provider's embedding endpoint; this file holds what they
// share: the options, batching under the provider's per-request cap, and the
// check that every answer has the configured length.
//
// Vectors come back as the provider sent them; the memory store normalises them
// (cosine then equals a dot product on every path, pgvector or portable).

import { ProviderError } from './errors.js';
import type { HttpProviderOptions } from './types.js';

export interface EmbeddingModel {
  /** Names the vector space (`<provider>:<model>:<dimension>`): vectors of different ids never mix. */
  readonly id: string;
  readonly dimension: number;
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;
}

export interface EmbeddingOptions extends HttpProviderOptions {
  readonly model: string;
  /** Length of every vector. Also sent to the API (OpenAI `dimensions`, Gemini `outputDimensionality`, Ollama `dimensions`) unless `sendDimensions` is false. */
  readonly dimensions: number;
  /** False for models that refuse a dimension parameter (e.g. text-embedding-ada-002). Default true. */
  readonly sendDimensions?: boolean;
  /** Texts per request (default and cap: the provider's own limit). */
  readonly batchSize?: number;
}

export const MIN_DIMENSIONS = 8;
export const MAX_DIMENSIONS = 4096;
/** One text longer than this is cut before it is sent: providers refuse or truncate far sooner. */
export const MAX_EMBED_CHARS = 32_768;

export function checkDimensions(provider: string, dimensions: number): number {
  if (!Number.isInteger(dimensions) || dimensions < MIN_DIMENSIONS || dimensions > MAX_DIMENSIONS) {
    throw new ProviderError('bad_request', provider, `dimensions must be an integer in [${MIN_DIMENSIONS}, ${MAX_DIMENSIONS}]`);
  }
  return dimensions;
}

export function batchSizeOf(options: EmbeddingOptions, cap: number): number {
  const size = options.batchSize ?? cap;
  return Number.isInteger(size) && size >= 1 ? Math.min(size, cap) : cap;
}

/** Calls `one` per batch of at most `size` texts and joins the answers in order. */
export async function inBatches(
  texts: readonly string[],
  size: number,
  one: (batch: string[]) => Promise<Float32Array[]>,
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += size) {
    out.push(...(await one(texts.slice(i, i + size).map((t) => t.slice(0, MAX_EMBED_CHARS)))));
  }
  return out;
}

/** The provider's vectors, checked for count and length, as Float32Arrays. */
export function toVectors(provider: string, raw: readonly (ArrayLike<number> | undefined)[], count: number, dimension: number): Float32Array[] {
  if (raw.length !== count) {
    throw new ProviderError('bad_request', provider, `asked for ${count} embeddings, got ${raw.length}`);
  }
  return raw.map((v, i) => {
    if (v === undefined || v.length !== dimension) {
      throw new ProviderError('bad_request', provider, `embedding ${i} has ${v?.length ?? 0} dimensions, configured ${dimension}`);
    }
    const out = Float32Array.from(v);
    for (const x of out) {
      if (!Number.isFinite(x)) throw new ProviderError('bad_request', provider, `embedding ${i} holds a non-finite number`);
    }
    return out;
  });
}
