/**
 * Where memory's embeddings come from. The default is the offline hash
 * embedder (no keys, no network, not semantic); a provider's embedding
 * endpoint gives real semantic recall:
 *
 *   config file  "memory": { "embeddings": { "kind": "openai", "model": "text-embedding-3-small", "dimensions": 1536 } }
 *   environment  TROUPE_EMBEDDINGS=openai TROUPE_EMBEDDINGS_MODEL=... TROUPE_EMBEDDINGS_DIMENSIONS=...
 *
 * Keys and URLs fall back to the chat variables (OPENAI_API_KEY, GEMINI_API_KEY,
 * OLLAMA_URL, ...), as createEmbeddingModel reads them.
 */
import { z } from 'zod';
// Narrow imports: config loading must not pull in the SDKs or PGlite (createEmbedder loads them when used).
import { MAX_DIMENSIONS, MIN_DIMENSIONS } from '../providers/embedding.js';
import type { EmbeddingConfig } from '../providers/index.js';
import type { Embedder, VectorSearch } from '../store/memory/embedder.js';
import { HashEmbedder } from '../store/memory/hash_embedder.js';
import { ConfigError } from './config_error.js';

export type EmbeddingsConfig = EmbeddingConfig | { kind: 'hash'; dimensions: number };

export interface MemoryConfig {
  embeddings: EmbeddingsConfig;
}

const dims = z.number().int().min(MIN_DIMENSIONS).max(MAX_DIMENSIONS);
const remote = {
  model: z.string().min(1).max(200),
  dimensions: dims,
  sendDimensions: z.boolean().optional(),
  batchSize: z.number().int().min(1).max(4096).optional(),
  apiKey: z.string().min(1).optional(),
  baseURL: z.string().regex(/^https?:\/\//, 'must be an http(s) URL').max(2048).optional(),
  timeoutMs: z.number().int().min(100).max(600_000).optional(),
  defaultHeaders: z.record(z.string(), z.string()).optional(),
};

/** The `memory` block of the config file. */
export const memorySchema = z.strictObject({
  embeddings: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('hash'), dimensions: dims.optional() }),
    z.strictObject({ kind: z.literal('openai'), label: z.string().min(1).max(64).optional(), ...remote }),
    z.strictObject({ kind: z.literal('gemini'), apiVersion: z.string().min(1).max(32).optional(), ...remote }),
    z.strictObject({ kind: z.literal('ollama'), ...remote }),
  ]).optional(),
});

export const MEMORY_ENV = ['TROUPE_EMBEDDINGS', 'TROUPE_EMBEDDINGS_MODEL', 'TROUPE_EMBEDDINGS_DIMENSIONS'] as const;

const DEFAULT_HASH_DIMENSIONS = 256;

type Env = Record<string, string | undefined>;

/** The file's block, overridden by the environment. */
export function memoryConfig(env: Env, file: z.infer<typeof memorySchema> | undefined): MemoryConfig {
  const given = file?.embeddings;
  const kind = env.TROUPE_EMBEDDINGS || given?.kind || 'hash';
  if (kind !== 'hash' && kind !== 'openai' && kind !== 'gemini' && kind !== 'ollama') {
    throw new ConfigError(`TROUPE_EMBEDDINGS must be hash, openai, gemini or ollama (got "${kind}")`);
  }
  const rawDims = env.TROUPE_EMBEDDINGS_DIMENSIONS;
  const envDims = rawDims === undefined || rawDims === '' ? undefined : Number(rawDims);
  if (envDims !== undefined && (!Number.isInteger(envDims) || envDims < MIN_DIMENSIONS || envDims > MAX_DIMENSIONS)) {
    throw new ConfigError(`TROUPE_EMBEDDINGS_DIMENSIONS must be a whole number from ${MIN_DIMENSIONS} to ${MAX_DIMENSIONS} (got "${rawDims}")`);
  }
  // Settings of the file's block apply only when it describes the same kind.
  const same = given?.kind === kind ? given : undefined;
  if (kind === 'hash') return { embeddings: { kind, dimensions: envDims ?? same?.dimensions ?? DEFAULT_HASH_DIMENSIONS } };
  const model = env.TROUPE_EMBEDDINGS_MODEL || (same !== undefined && 'model' in same ? same.model : undefined);
  const dimensions = envDims ?? same?.dimensions;
  if (model === undefined || dimensions === undefined) {
    throw new ConfigError(`${kind} embeddings need a model and dimensions (memory.embeddings in the config file, or TROUPE_EMBEDDINGS_MODEL and TROUPE_EMBEDDINGS_DIMENSIONS)`);
  }
  return { embeddings: { ...(same ?? {}), kind, model, dimensions } as EmbeddingConfig };
}

/** The embedder the store uses; a missing key fails the start here, before any request. */
export async function createEmbedder(config: MemoryConfig, env: Env = process.env): Promise<Embedder> {
  const e = config.embeddings;
  if (e.kind === 'hash') return new HashEmbedder(e.dimensions);
  const { createEmbeddingModel } = await import('../providers/embed_factory.js');
  try {
    return createEmbeddingModel(e, env);
  } catch (err) {
    throw new ConfigError(`memory embeddings: ${(err as Error).message}`);
  }
}

/** Which embedder the store uses, as plain data (the store worker reports it once the store is open). */
export interface EmbedderInfo { id: string; offline: boolean }

/** What /health and the start banner say about memory. */
export function describeMemory(embedder: EmbedderInfo, vectorSearch: VectorSearch): { embeddings: string; offline: boolean; vectorSearch: VectorSearch } {
  return {
    embeddings: embedder.offline ? `${embedder.id} (offline default: hashed words, not semantic; configure memory.embeddings)` : embedder.id,
    offline: embedder.offline,
    vectorSearch,
  };
}
