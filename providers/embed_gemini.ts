// Embeddings from Gemini through `@google/generative-ai`: one text goes to
// `models/<m>:embedContent`, several to `models/<m>:batchEmbedContents`
// (at most 100 per request). `outputDimensionality` is not in this SDK's types
// but is part of the API; the SDK passes request fields through as sent.

import { GoogleGenerativeAI, type EmbedContentRequest, type GenerativeModel } from '@google/generative-ai';
import { DEFAULT_TIMEOUT_MS, RequestDeadline } from './deadline.js';
import { batchSizeOf, checkDimensions, inBatches, toVectors, type EmbeddingModel, type EmbeddingOptions } from './embedding.js';
import { classifyGemini } from './gemini.js';

const PROVIDER = 'gemini';
const MAX_BATCH = 100;

type Request = EmbedContentRequest & { outputDimensionality?: number };

export class GeminiEmbeddings implements EmbeddingModel {
  readonly id: string;
  readonly dimension: number;
  private readonly model: GenerativeModel;
  private readonly batch: number;

  constructor(private readonly options: EmbeddingOptions & { readonly apiKey: string; readonly apiVersion?: string }) {
    this.dimension = checkDimensions(PROVIDER, options.dimensions);
    this.id = `${PROVIDER}:${options.model}:${this.dimension}`;
    this.batch = batchSizeOf(options, MAX_BATCH);
    this.model = new GoogleGenerativeAI(options.apiKey).getGenerativeModel(
      { model: options.model },
      {
        ...(options.baseURL ? { baseUrl: options.baseURL.replace(/\/+$/, '') } : {}),
        ...(options.defaultHeaders ? { customHeaders: { ...options.defaultHeaders } } : {}),
        apiVersion: options.apiVersion ?? 'v1beta',
      },
    );
  }

  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    return inBatches(texts, this.batch, async (input) => {
      // The SDK's own timeout never clears its timer; the deadline is ours.
      const deadline = new RequestDeadline(signal, this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      try {
        const requests = input.map((text): Request => ({
          content: { role: 'user', parts: [{ text }] },
          ...(this.options.sendDimensions === false ? {} : { outputDimensionality: this.dimension }),
        }));
        if (requests.length === 1) {
          const res = await this.model.embedContent(requests[0], { signal: deadline.signal });
          return toVectors(PROVIDER, [res.embedding?.values], 1, this.dimension);
        }
        const res = await this.model.batchEmbedContents({ requests }, { signal: deadline.signal });
        return toVectors(PROVIDER, (res.embeddings ?? []).map((e) => e.values), input.length, this.dimension);
      } catch (err) {
        throw classifyGemini(err, deadline);
      } finally {
        deadline.dispose();
      }
    });
  }
}
