// createEmbeddingModel: an embedding configuration in, the adapter out. Apart
// from index.ts because the OpenAI and Gemini adapters import their SDKs; only
// the store worker, with real embeddings configured, loads this module.

import { GeminiEmbeddings } from './embed_gemini.js';
import { OllamaEmbeddings } from './embed_ollama.js';
import { OpenAIEmbeddings } from './embed_openai.js';
import { DEFAULT_OLLAMA_URL, optional, ProviderConfigError, required, type Env } from './config_error.js';
import type { EmbeddingModel } from './embedding.js';
import { EMBEDDING_KINDS, type EmbeddingConfig } from './index.js';

export { OpenAIEmbeddings, GeminiEmbeddings, OllamaEmbeddings };

export function createEmbeddingModel(config: EmbeddingConfig, env: Env = process.env): EmbeddingModel {
  switch (config.kind) {
    case 'openai':
      return new OpenAIEmbeddings({
        ...config,
        apiKey: required(config.apiKey ?? env.OPENAI_API_KEY, 'openai', 'OPENAI_API_KEY'),
        ...optional('baseURL', config.baseURL ?? env.OPENAI_BASE_URL),
      });
    case 'gemini':
      return new GeminiEmbeddings({
        ...config,
        apiKey: required(config.apiKey ?? env.GEMINI_API_KEY ?? env.GOOGLE_API_KEY, 'gemini', 'GEMINI_API_KEY'),
        ...optional('baseURL', config.baseURL ?? env.GEMINI_BASE_URL),
      });
    case 'ollama':
      return new OllamaEmbeddings({ ...config, baseURL: config.baseURL ?? env.OLLAMA_URL ?? DEFAULT_OLLAMA_URL });
    default: {
      const kind = (config as { kind?: unknown }).kind;
      throw new ProviderConfigError(`unknown embedding kind ${JSON.stringify(kind)}; expected one of ${EMBEDDING_KINDS.join(', ')}`);
    }
  }
}

