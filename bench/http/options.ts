/** Settings of an HTTP load run against /v1/chat/completions. */

export interface HttpBenchOptions {
  /** Base URL, e.g. http://127.0.0.1:8787 (the path is appended). */
  url: string;
  path: string;
  conns: number;
  durationMs: number;
  warmupMs: number;
  /** Requests per second in total (open loop); 0 = closed loop. */
  rate: number;
  stream: boolean;
  /** Length of the user message; 0 = "hello". */
  payload: number;
  token?: string;
  /** The `model` field: the agent id. */
  model: string;
  metricsUrl?: string;
  timeoutSec: number;
  soak: boolean;
  leakThresholdBytes: number;
}

export function chatBody(o: Pick<HttpBenchOptions, 'model' | 'payload' | 'stream'>): string {
  const content = o.payload > 0 ? 'x'.repeat(o.payload) : 'hello';
  return JSON.stringify({ model: o.model, messages: [{ role: 'user', content }], stream: o.stream });
}

/** Whether a response body is a whole, well-formed answer (not just a 200). */
export function verifyBody(body: string, stream: boolean): boolean {
  if (stream) return body.includes('"chat.completion.chunk"') && body.trimEnd().endsWith('data: [DONE]');
  try {
    const doc = JSON.parse(body) as { object?: unknown; choices?: { message?: { content?: unknown } }[] };
    const content = doc.choices?.[0]?.message?.content;
    return doc.object === 'chat.completion' && typeof content === 'string' && content.length > 0;
  } catch {
    return false;
  }
}
