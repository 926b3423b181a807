// The providers library's public surface: the contract, the errors, every
// adapter, and createProvider, which builds one from plain configuration.
// Keys and URLs missing from the configuration are read from the environment.

import { AnthropicProvider } from './anthropic.js';
import { GeminiProvider } from './gemini.js';
import { DEFAULT_OLLAMA_URL, OllamaProvider } from './ollama.js';
import { OpenAIProvider } from './openai.js';
import { OpenAILeanProvider } from './openai_lean.js';
import { SimulatedProvider, type SimulatedOptions } from './simulated.js';
import { GeminiEmbeddings } from './embed_gemini.js';
import { OllamaEmbeddings } from './embed_ollama.js';
import { OpenAIEmbeddings } from './embed_openai.js';
import type { EmbeddingModel, EmbeddingOptions } from './embedding.js';
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
export { AnthropicProvider, type AnthropicOptions } from './anthropic.js';
export { GeminiProvider, type GeminiOptions } from './gemini.js';
export { cleanGeminiSchema } from './gemini_schema.js';
export { OllamaProvider, DEFAULT_OLLAMA_URL, type OllamaOptions } from './ollama.js';
export { OpenAIProvider, type OpenAIOptions } from './openai.js';
export { OpenAILeanProvider } from './openai_lean.js';
export { closeLeanDispatcher } from './lean_http.js';
export { SimulatedProvider, MAX_SIMULATED_TOKENS, type SimulatedOptions, type SimulatedFailure, type SimulatedToolCall } from './simulated.js';
export { DEFAULT_TIMEOUT_MS } from './deadline.js';
export { MAX_DIMENSIONS, MIN_DIMENSIONS, type EmbeddingModel, type EmbeddingOptions } from './embedding.js';
export { OpenAIEmbeddings } from './embed_openai.js';
export { GeminiEmbeddings } from './embed_gemini.js';
export { OllamaEmbeddings } from './embed_ollama.js';

export type ProviderConfig =
  | ({
    readonly kind: 'openai'; readonly label?: string; readonly maxTokensField?: 'max_tokens' | 'max_completion_tokens';
    /** 'lean' (default): undici keep-alive pool and an incremental SSE parser; 'sdk': the official `openai` SDK. */
    readonly transport?: OpenAITransport;
  } & HttpProviderOptions)
  | ({ readonly kind: 'anthropic'; readonly defaultMaxTokens?: number } & HttpProviderOptions)
  | ({ readonly kind: 'gemini'; readonly apiVersion?: string } & HttpProviderOptions)
  | ({ readonly kind: 'ollama' } & HttpProviderOptions)
  | ({ readonly kind: 'simulated' } & SimulatedOptions);

export type ProviderKind = ProviderConfig['kind'];

export type OpenAITransport = 'lean' | 'sdk';
export const OPENAI_TRANSPORTS: readonly OpenAITransport[] = ['lean', 'sdk'];

export const PROVIDER_KINDS: readonly ProviderKind[] = ['openai', 'anthropic', 'gemini', 'ollama', 'simulated'];

/** Bad configuration, found before any request is sent. */
export class ProviderConfigError extends Error {
  override readonly name = 'ProviderConfigError';
  readonly code = 'INVALID_REQUEST';
}

type Env = { readonly [name: string]: string | undefined };

export function createProvider(config: ProviderConfig, env: Env = process.env): Provider {
  switch (config.kind) {
    case 'openai': {
      const options = {
        ...config,
        apiKey: required(config.apiKey ?? env.OPENAI_API_KEY, 'openai', 'OPENAI_API_KEY'),
        ...optional('baseURL', config.baseURL ?? env.OPENAI_BASE_URL),
      };
      return config.transport === 'sdk' ? new OpenAIProvider(options) : new OpenAILeanProvider(options);
    }
    case 'anthropic':
      return new AnthropicProvider({
        ...config,
        apiKey: required(config.apiKey ?? env.ANTHROPIC_API_KEY, 'anthropic', 'ANTHROPIC_API_KEY'),
        ...optional('baseURL', config.baseURL ?? env.ANTHROPIC_BASE_URL),
      });
    case 'gemini':
      return new GeminiProvider({
        ...config,
        apiKey: required(config.apiKey ?? env.GEMINI_API_KEY ?? env.GOOGLE_API_KEY, 'gemini', 'GEMINI_API_KEY'),
        ...optional('baseURL', config.baseURL ?? env.GEMINI_BASE_URL),
      });
    case 'ollama':
      return new OllamaProvider({ ...config, baseURL: config.baseURL ?? env.OLLAMA_URL ?? DEFAULT_OLLAMA_URL });
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

function required(value: string | undefined, kind: string, envName: string): string {
  if (value === undefined || value.trim() === '') {
    throw new ProviderConfigError(`the ${kind} provider needs an API key: set apiKey or ${envName}`);
  }
  return value;
}

function optional(name: 'baseURL', value: string | undefined): { baseURL?: string } {
  return value === undefined || value === '' ? {} : { [name]: value };
}
