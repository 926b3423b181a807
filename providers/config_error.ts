// Configuration checks shared by the chat and embedding factories: run before
// any adapter module loads, so a missing key fails at start, not at the first request.

/** Bad configuration, found before any request is sent. */
export class ProviderConfigError extends Error {
  override readonly name = 'ProviderConfigError';
  readonly code = 'INVALID_REQUEST';
}

/** Where Ollama listens unless `baseURL` or OLLAMA_URL says otherwise (chat and embeddings). */
export const DEFAULT_OLLAMA_URL = 'http://127.0.0.1:11434';

export type Env = { readonly [name: string]: string | undefined };

export function required(value: string | undefined, kind: string, envName: string): string {
  if (value === undefined || value.trim() === '') {
    throw new ProviderConfigError(`the ${kind} provider needs an API key: set apiKey or ${envName}`);
  }
  return value;
}

export function optional(name: 'baseURL', value: string | undefined): { baseURL?: string } {
  return value === undefined || value === '' ? {} : { [name]: value };
}
