// The Ollama adapter, over its native streaming API: `POST /api/chat` through
// the lean transport (lean_http.ts: undici's dispatcher, not the global fetch,
// which cost several times the CPU per call), answered as NDJSON. Ollama sends tool calls whole (arguments as an
// object), so each becomes one tool_call event carrying the full JSON.

import { DEFAULT_OLLAMA_URL } from './config_error.js';
import { parseArguments, textOf, toolNamesById } from './content.js';
import { DEFAULT_TIMEOUT_MS, RequestDeadline } from './deadline.js';
import { endpointOf, postJson, type Endpoint } from './lean_http.js';
import { abortedError, errorFromStatus, ProviderError, streamEndedEarly } from './errors.js';
import { readNdjson } from './ndjson.js';
import type { ChatMessage, ChatRequest, HttpProviderOptions, Provider, StopReason, StreamEvent } from './types.js';

export { DEFAULT_OLLAMA_URL };
const PROVIDER = 'ollama';
/** An error body longer than this is cut: it only feeds a message. */
const MAX_ERROR_BODY = 64 * 1024;

export type OllamaOptions = HttpProviderOptions;

interface OllamaToolCall {
  readonly id?: string;
  readonly function?: { readonly name?: string; readonly arguments?: unknown };
}

interface OllamaLine {
  readonly error?: string;
  readonly message?: { readonly content?: string; readonly tool_calls?: readonly OllamaToolCall[] };
  readonly done?: boolean;
  readonly done_reason?: string;
  readonly prompt_eval_count?: number;
  readonly eval_count?: number;
}

export class OllamaProvider implements Provider {
  readonly kind = PROVIDER;
  private readonly endpoint: Endpoint;
  private readonly options: OllamaOptions;

  constructor(options: OllamaOptions = {}) {
    this.options = options;
    this.endpoint = endpointOf(options.baseURL ?? DEFAULT_OLLAMA_URL);
  }

  async *stream(req: ChatRequest): AsyncIterable<StreamEvent> {
    if (req.signal?.aborted) throw abortedError(PROVIDER);
    const deadline = new RequestDeadline(req.signal, this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    let last: OllamaLine | undefined;
    let calls = 0;
    try {
      const res = await postJson(this.endpoint, '/api/chat', req.headers ? { ...this.headers(), ...req.headers } : this.headers(), this.body(req), deadline);
      if (res.status < 200 || res.status > 299) throw errorFromStatus(PROVIDER, res.status, errorText(res.status, await res.body.text()), res.headers);
      for await (const value of readNdjson(res.body)) {
        const line = value as OllamaLine;
        if (typeof line.error === 'string') throw new ProviderError('overloaded', PROVIDER, line.error);
        const content = line.message?.content;
        if (content) yield { type: 'text', delta: content };
        for (const call of line.message?.tool_calls ?? []) {
          const index = calls++;
          yield {
            type: 'tool_call',
            index,
            id: call.id ?? `ollama_call_${index}`,
            name: call.function?.name ?? '',
            argumentsDelta: JSON.stringify(call.function?.arguments ?? {}),
          };
        }
        if (line.done === true) {
          last = line;
          break;
        }
      }
    } catch (err) {
      throw deadline.toError(PROVIDER, err);
    } finally {
      deadline.dispose();
    }
    if (req.signal?.aborted) throw abortedError(PROVIDER);
    if (!last) throw streamEndedEarly(PROVIDER);
    yield { type: 'usage', inputTokens: last.prompt_eval_count ?? 0, outputTokens: last.eval_count ?? 0 };
    yield { type: 'stop', reason: stopReason(last.done_reason, calls > 0) };
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/x-ndjson' };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    return { ...headers, ...this.options.defaultHeaders };
  }

  private body(req: ChatRequest): { [key: string]: unknown } {
    const options: { [key: string]: unknown } = {};
    if (req.temperature !== undefined) options.temperature = req.temperature;
    if (req.maxTokens !== undefined) options.num_predict = req.maxTokens;
    if (req.stop?.length) options.stop = [...req.stop];
    const body: { [key: string]: unknown } = { model: req.model, messages: toMessages(req.messages), stream: true };
    if (req.tools?.length) {
      body.tools = req.tools.map((t) => ({
        type: 'function',
        function: { name: t.name, description: t.description, parameters: t.parameters },
      }));
    }
    if (Object.keys(options).length) body.options = options;
    return { ...body, ...req.extra };
  }
}

function toMessages(messages: readonly ChatMessage[]): object[] {
  const names = toolNamesById(messages);
  return messages.map((message) => {
    const content = textOf(message.content);
    switch (message.role) {
      case 'assistant':
        if (!message.toolCalls?.length) return { role: 'assistant', content };
        return {
          role: 'assistant',
          content,
          tool_calls: message.toolCalls.map((call) => ({
            function: { name: call.name, arguments: parseArguments(PROVIDER, call) },
          })),
        };
      case 'tool': {
        const name = names.get(message.toolCallId);
        return name === undefined ? { role: 'tool', content } : { role: 'tool', content, tool_name: name };
      }
      default:
        return { role: message.role, content };
    }
  });
}

/** The message of an Ollama error response (`{"error": "..."}` or raw text). */
export async function errorMessage(res: Response): Promise<string> {
  let text: string;
  try {
    text = await res.text();
  } catch {
    return `HTTP ${res.status}`;
  }
  return errorText(res.status, text);
}

function errorText(status: number, body: string): string {
  const text = body.slice(0, MAX_ERROR_BODY);
  try {
    const parsed: unknown = JSON.parse(text);
    const error = (parsed as { error?: unknown } | null)?.error;
    if (typeof error === 'string') return error;
  } catch {
    // not JSON: the raw text is the message
  }
  return text || `HTTP ${status}`;
}

function stopReason(reason: string | undefined, calledTools: boolean): StopReason {
  if (reason === 'length') return 'length';
  return calledTools ? 'tool_calls' : 'stop';
}
