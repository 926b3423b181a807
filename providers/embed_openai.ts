// Embeddings from OpenAI and OpenAI-compatible hosts (`POST /v1/embeddings`),
// through the `openai` SDK. The SDK asks for base64 floats by default and
// decodes them itself, which is about four times smaller on the wire than JSON.

import type OpenAI from 'openai';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { openaiClient } from './openai.js';
import { batchSizeOf, checkDimensions, inBatches, toVectors, type EmbeddingModel, type EmbeddingOptions } from './embedding.js';
import { classifyStainless } from './stainless_errors.js';

const ERROR_CLASSES = { APIError, APIUserAbortError, APIConnectionError, APIConnectionTimeoutError };
/** OpenAI's cap on inputs per request. */
const MAX_BATCH = 2048;

export class OpenAIEmbeddings implements EmbeddingModel {
  readonly id: string;
  readonly dimension: number;
  private readonly client: OpenAI;
  private readonly batch: number;

  constructor(private readonly options: EmbeddingOptions & { readonly apiKey: string; readonly label?: string }) {
    this.dimension = checkDimensions(this.label, options.dimensions);
    this.id = `${this.label}:${options.model}:${this.dimension}`;
    this.batch = batchSizeOf(options, MAX_BATCH);
    this.client = openaiClient(options);
  }

  private get label(): string {
    return this.options.label ?? 'openai';
  }

  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    return inBatches(texts, this.batch, async (input) => {
      try {
        const res = await this.client.embeddings.create(
          {
            model: this.options.model,
            input,
            ...(this.options.sendDimensions === false ? {} : { dimensions: this.dimension }),
          },
          signal ? { signal } : undefined,
        );
        // `index` says which input each vector belongs to; order is not promised.
        const byIndex = new Array<number[] | undefined>(input.length);
        for (const d of res.data) if (d.index >= 0 && d.index < input.length) byIndex[d.index] = d.embedding;
        return toVectors(this.label, byIndex, input.length, this.dimension);
      } catch (err) {
        throw classifyStainless(ERROR_CLASSES, this.label, err, signal);
      }
    });
  }
}
