// The providers library's public surface: the contract, the errors, the
// simulated adapter, and createProvider, which builds one from
// plain configuration. Keys and URLs missing from the configuration are read
// from the environment.
//
// This module imports no SDK and no HTTP client: the OpenAI, Anthropic, Gemini
// and Ollama adapters load with their first request (lazy.ts), so a worker whose
// agents use only `simulated` never loads `openai`, `@anthropic-ai/sdk`,
// `@google/genai` or undici (and one on the default lean transport loads only
// undici). Import an adapter class from its own module
// (`providers/anthropic.js`, ...), and embeddings from `embed_factory.js`.

import { SimulatedProvider, type SimulatedOptions } from './simulated.js';
import { LazyProvider } from './lazy.js';
import { DEFAULT_OLLAMA_URL, optional, ProviderConfigError, required, type Env } from './config_error.js';
import type { EmbeddingOptions } from './embedding.js';
import type { HttpProviderOptions, Provider } from './types.js';

export type * from './types.js';
export {
  ProviderError,
  parseRetryAfter,
  kindForStatus,
  MAX_RETRY_AFTER_MS,
  type ProviderErrorKind,
  type ProviderErrorInit,
} from './errors.js';
export { collectStream, ReplyCollector, type CollectedReply } from './collect.js';
export type { AnthropicOptions } from './anthropic.js';
export type { GeminiOptions } from './gemini.js';
export { cleanGeminiSchema } from './gemini_schema.js';
export type { OllamaOptions } from './ollama.js';
export { DEFAULT_OLLAMA_URL } from './config_error.js';
export type { OpenAIOptions } from './openai.js';
export { LazyProvider } from './lazy.js';
export { ProviderConfigError } from './config_error.js';
export { SimulatedProvider, MAX_SIMULATED_TOKENS, type SimulatedOptions, type SimulatedFailure, type SimulatedToolCall } from './simulated.js';
export { DEFAULT_TIMEOUT_MS } from './deadline.js';
export { MAX_DIMENSIONS, MIN_DIMENSIONS, type EmbeddingModel, type EmbeddingOptions } from './embedding.js';

export type ProviderConfig =
  | ({
    readonly kind: 'openai'; readonly label?: string; readonly maxTokensField?: 'max_tokens' | 'max_completion_tokens';
    readonly transport?: HttpTransport;
  } & HttpProviderOptions)
  | ({ readonly kind: 'anthropic'; readonly defaultMaxTokens?: number; readonly transport?: HttpTransport } & HttpProviderOptions)
  | ({ readonly kind: 'gemini'; readonly apiVersion?: string; readonly transport?: HttpTransport } & HttpProviderOptions)
  | ({ readonly kind: 'ollama' } & HttpProviderOptions)
  | ({ readonly kind: 'simulated' } & SimulatedOptions);

export type ProviderKind = ProviderConfig['kind'];

/**
 * How the OpenAI, Anthropic and Gemini adapters reach their upstream. 'lean'
 * (the default): the thread's undici keep-alive pool and an incremental SSE
 * parser (lean_http.ts); 'sdk': the vendor's official SDK, the reference the
 * lean path is tested against.
 */
export type HttpTransport = 'lean' | 'sdk';
export const HTTP_TRANSPORTS: readonly HttpTransport[] = ['lean', 'sdk'];

export const PROVIDER_KINDS: readonly ProviderKind[] = ['openai', 'anthropic', 'gemini', 'ollama', 'simulated'];

export function createProvider(config: ProviderConfig, env: Env = process.env): Provider {
  switch (config.kind) {
    case 'openai': {
      const options = {
        ...config,
        apiKey: required(config.apiKey ?? env.OPENAI_API_KEY, 'openai', 'OPENAI_API_KEY'),
        ...optional('baseURL', config.baseURL ?? env.OPENAI_BASE_URL),
      };
      return config.transport === 'sdk'
        ? new LazyProvider('openai', async () => new (await import('./openai.js')).OpenAIProvider(options))
        : new LazyProvider('openai', async () => new (await import('./openai_lean.js')).OpenAILeanProvider(options));
    }
    case 'anthropic': {
      const options = {
        ...config,
        apiKey: required(config.apiKey ?? env.ANTHROPIC_API_KEY, 'anthropic', 'ANTHROPIC_API_KEY'),
        ...optional('baseURL', config.baseURL ?? env.ANTHROPIC_BASE_URL),
      };
      return config.transport === 'sdk'
        ? new LazyProvider('anthropic', async () => new (await import('./anthropic.js')).AnthropicProvider(options))
        : new LazyProvider('anthropic', async () => new (await import('./anthropic_lean.js')).AnthropicLeanProvider(options));
    }
    case 'gemini': {
      const options = {
        ...config,
        apiKey: required(config.apiKey ?? env.GEMINI_API_KEY ?? env.GOOGLE_API_KEY, 'gemini', 'GEMINI_API_KEY'),
        ...optional('baseURL', config.baseURL ?? env.GEMINI_BASE_URL),
      };
      return config.transport === 'sdk'
        ? new LazyProvider('gemini', async () => new (await import('./gemini.js')).GeminiProvider(options))
        : new LazyProvider('gemini', async () => new (await import('./gemini_lean.js')).GeminiLeanProvider(options));
    }
    case 'ollama': {
      const options = { ...config, baseURL: config.baseURL ?? env.OLLAMA_URL ?? DEFAULT_OLLAMA_URL };
      return new LazyProvider('ollama', async () => new (await import('./ollama.js')).OllamaProvider(options));
    }
    case 'simulated':
      return new SimulatedProvider(config);
    default: {
      const kind = (config as { kind?: unknown }).kind;
      throw new ProviderConfigError(`unknown provider kind ${JSON.stringify(kind)}; expected one of ${PROVIDER_KINDS.join(', ')}`);
    }
  }
}

/** Where real embeddings come from (memory); keys and URLs fall back to the same variables as chat. */
export type EmbeddingConfig =
  | ({ readonly kind: 'openai'; readonly label?: string } & EmbeddingOptions)
  | ({ readonly kind: 'gemini'; readonly apiVersion?: string } & EmbeddingOptions)
  | ({ readonly kind: 'ollama' } & EmbeddingOptions);

export const EMBEDDING_KINDS: readonly EmbeddingConfig['kind'][] = ['openai', 'gemini', 'ollama'];
