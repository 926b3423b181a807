// The normalized provider contract. Every adapter turns one ChatRequest into an
// async stream of StreamEvents, so callers never see a vendor's wire shapes.

/** Anthropic's prompt-caching breakpoint; other providers ignore it. */
export interface CacheControl {
  readonly type: 'ephemeral';
  readonly ttl?: '5m' | '1h';
}

export interface TextPart {
  readonly type: 'text';
  readonly text: string;
  readonly cacheControl?: CacheControl;
}

export type ContentPart = TextPart;

export interface ToolCall {
  readonly id: string;
  readonly name: string;
  /** The arguments as a JSON text, exactly as the model produced them. */
  readonly arguments: string;
}

export interface SystemMessage {
  readonly role: 'system';
  readonly content: string | readonly ContentPart[];
  readonly cacheControl?: CacheControl;
}

export interface UserMessage {
  readonly role: 'user';
  readonly content: string | readonly ContentPart[];
  readonly cacheControl?: CacheControl;
}

export interface AssistantMessage {
  readonly role: 'assistant';
  readonly content: string | readonly ContentPart[];
  readonly toolCalls?: readonly ToolCall[];
  readonly cacheControl?: CacheControl;
}

export interface ToolMessage {
  readonly role: 'tool';
  readonly toolCallId: string;
  readonly content: string | readonly ContentPart[];
  readonly cacheControl?: CacheControl;
}

export type ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage;

/** A JSON Schema object, kept opaque: adapters translate it per vendor. */
export type JsonSchema = { readonly [key: string]: unknown };

export interface ToolSpec {
  readonly name: string;
  readonly description: string;
  readonly parameters: JsonSchema;
  readonly cacheControl?: CacheControl;
}

export interface ChatRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly tools?: readonly ToolSpec[];
  readonly temperature?: number;
  readonly maxTokens?: number;
  readonly stop?: readonly string[];
  readonly signal?: AbortSignal;
  /** Extra HTTP headers for this request only (e.g. the W3C `traceparent` of the caller's span). */
  readonly headers?: { readonly [name: string]: string };
  /** Vendor-specific body fields, merged last into the upstream request. */
  readonly extra?: { readonly [key: string]: unknown };
}

export type StopReason = 'stop' | 'tool_calls' | 'length' | 'content_filter';

export interface TextEvent {
  readonly type: 'text';
  readonly delta: string;
}

/**
 * A piece of one tool call. `index` groups the pieces; `id` and `name` come with
 * the first piece of a call, `argumentsDelta` pieces concatenate to its JSON.
 */
export interface ToolCallEvent {
  readonly type: 'tool_call';
  readonly index: number;
  readonly id?: string;
  readonly name?: string;
  readonly argumentsDelta: string;
}

export interface UsageEvent {
  readonly type: 'usage';
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens?: number;
  readonly cacheWriteTokens?: number;
}

/** Always the last event of a stream that finished cleanly. */
export interface StopEvent {
  readonly type: 'stop';
  readonly reason: StopReason;
}

export type StreamEvent = TextEvent | ToolCallEvent | UsageEvent | StopEvent;

export interface Provider {
  readonly kind: string;
  /** Failures reject the iterator with a ProviderError. */
  stream(req: ChatRequest): AsyncIterable<StreamEvent>;
}

/** What every network adapter is built from. */
export interface HttpProviderOptions {
  readonly apiKey?: string;
  readonly baseURL?: string;
  readonly timeoutMs?: number;
  readonly defaultHeaders?: { readonly [name: string]: string };
}
