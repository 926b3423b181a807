// Embeddings from Ollama's `POST /api/embed` (input: one string or a list;
// answer: `embeddings`, one array per input, already L2-normalised by Ollama).

import { DEFAULT_TIMEOUT_MS, RequestDeadline } from './deadline.js';
import { batchSizeOf, checkDimensions, inBatches, toVectors, type EmbeddingModel, type EmbeddingOptions } from './embedding.js';
import { errorFromStatus, ProviderError } from './errors.js';
import { DEFAULT_OLLAMA_URL, errorMessage } from './ollama.js';

const PROVIDER = 'ollama';
/** Ollama has no documented cap; this keeps one request's body and time bounded. */
const MAX_BATCH = 256;

export class OllamaEmbeddings implements EmbeddingModel {
  readonly id: string;
  readonly dimension: number;
  private readonly url: string;
  private readonly batch: number;

  constructor(private readonly options: EmbeddingOptions) {
    this.dimension = checkDimensions(PROVIDER, options.dimensions);
    this.id = `${PROVIDER}:${options.model}:${this.dimension}`;
    this.batch = batchSizeOf(options, MAX_BATCH);
    this.url = `${(options.baseURL ?? DEFAULT_OLLAMA_URL).replace(/\/+$/, '')}/api/embed`;
  }

  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    return inBatches(texts, this.batch, async (input) => {
      const deadline = new RequestDeadline(signal, this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      try {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
        const res = await fetch(this.url, {
          method: 'POST',
          headers: { ...headers, ...this.options.defaultHeaders },
          body: JSON.stringify({
            model: this.options.model,
            input,
            ...(this.options.sendDimensions === false ? {} : { dimensions: this.dimension }),
          }),
          signal: deadline.signal,
        });
        if (!res.ok) throw errorFromStatus(PROVIDER, res.status, await errorMessage(res), res.headers);
        const body = (await res.json()) as { embeddings?: unknown };
        if (!Array.isArray(body.embeddings)) throw new ProviderError('bad_request', PROVIDER, 'the answer has no embeddings array');
        return toVectors(PROVIDER, body.embeddings as number[][], input.length, this.dimension);
      } catch (err) {
        throw deadline.toError(PROVIDER, err);
      } finally {
        deadline.dispose();
      }
    });
  }
}
