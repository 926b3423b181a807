// Per-request options of the Stainless SDKs (OpenAI, Anthropic): the caller's
// abort signal and any headers for this request alone (a trace's traceparent).
import type { ChatRequest } from './types.js';

export function requestOptions(req: ChatRequest): { signal?: AbortSignal; headers?: Record<string, string> } | undefined {
  if (req.signal === undefined && req.headers === undefined) return undefined;
  return { ...(req.signal ? { signal: req.signal } : {}), ...(req.headers ? { headers: { ...req.headers } } : {}) };
}
