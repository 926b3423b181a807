// Embeddings from Gemini through `@google/genai`: the texts of one batch go in
// one `embedContent` call (the SDK sends one text to `models/<m>:embedContent`,
// several to `models/<m>:batchEmbedContents`), at most 100 per request.

import type { GoogleGenAI } from '@google/genai';
import { DEFAULT_TIMEOUT_MS, RequestDeadline } from './deadline.js';
import { batchSizeOf, checkDimensions, inBatches, toVectors, type EmbeddingModel, type EmbeddingOptions } from './embedding.js';
import { classifyGemini, geminiClient } from './gemini.js';

const PROVIDER = 'gemini';
const MAX_BATCH = 100;

export class GeminiEmbeddings implements EmbeddingModel {
  readonly id: string;
  readonly dimension: number;
  private readonly client: GoogleGenAI;
  private readonly batch: number;

  constructor(private readonly options: EmbeddingOptions & { readonly apiKey: string; readonly apiVersion?: string }) {
    this.dimension = checkDimensions(PROVIDER, options.dimensions);
    this.id = `${PROVIDER}:${options.model}:${this.dimension}`;
    this.batch = batchSizeOf(options, MAX_BATCH);
    this.client = geminiClient(options);
  }

  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    return inBatches(texts, this.batch, async (input) => {
      // The deadline bounds the call (the SDK's own timeout is not used).
      const deadline = new RequestDeadline(signal, this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      try {
        const res = await this.client.models.embedContent({
          model: this.options.model,
          contents: input.map((text) => ({ role: 'user', parts: [{ text }] })),
          config: { abortSignal: deadline.signal, ...(this.options.sendDimensions === false ? {} : { outputDimensionality: this.dimension }) },
        });
        return toVectors(PROVIDER, (res.embeddings ?? []).map((e) => e.values), input.length, this.dimension);
      } catch (err) {
        throw classifyGemini(err, deadline);
      } finally {
        deadline.dispose();
      }
    });
  }
}
