/**
 * The seam between the channel framework and one chat platform.
 *
 * An adapter knows one platform's wire protocol and nothing else: it verifies
 * and parses inbound webhooks (or runs the platform's socket / polling loop),
 * renders Markdown into the platform's markup, and sends or edits messages
 * through the platform's official SDK (or a thin `fetch` client where none
 * exists), pointed at `apiBase`. Sessions, access control, commands, dedup,
 * streaming edits, splitting, outbound rate limits, retries, metrics and audit
 * belong to the framework (the channel actor), never to an adapter.
 *
 *   platform ──webhook──► adapter.handleWebhook ─┐
 *   platform ──socket───► adapter (start)  ──────┼─► ctx.deliver(InboundMessage[])
 *                                                ▼
 *                                  channel framework ─► startRun ─► session actor
 *                                                │
 *   platform ◄── adapter.send / edit / typing ◄──┘  (queued, rate-limited, retried)
 */

export type ChannelPlatform = 'telegram' | 'slack' | 'discord' | 'whatsapp' | 'zalo' | 'feishu';

/** One inbound user message, normalised. */
export interface InboundMessage {
  /** The platform's event or message id: the dedup key (platforms redeliver). */
  eventId: string;
  chatId: string;
  /** Set where the platform has threads (Slack thread_ts, Telegram topic, Discord thread). */
  threadId?: string;
  /** The platform's user id: the user for rate limits and audit. */
  userId: string;
  userName?: string;
  chatType: 'direct' | 'group';
  /** `unsupported`: photo, voice, sticker, file… (answered "not supported yet" and counted). */
  kind: 'text' | 'unsupported';
  /** The text with the bot mention removed; empty for `unsupported`. */
  text: string;
  /** In a group: the bot was mentioned or the message replies to the bot. */
  addressed: boolean;
  /** The platform message id to reply to, where replies are threaded by id. */
  messageId?: string;
}

/** A webhook request as the gateway received it. Header names are lower-case. */
export interface WebhookRequest {
  method: 'GET' | 'POST';
  headers: Readonly<Record<string, string>>;
  query: URLSearchParams;
  /** The exact bytes received: signatures are computed over them. */
  rawBody: Buffer;
  /** Receive time (ms since epoch), for timestamp windows. */
  now: number;
}

/** What the gateway answers the platform, and what it then processes. */
export interface WebhookResult {
  status: number;
  body?: string;
  contentType?: string;
  /** Messages to process asynchronously, after the answer was sent. */
  messages: InboundMessage[];
}

/**
 * Thrown by `handleWebhook` for a request that must not be processed.
 * `reason` feeds `/metrics` (bad_signature, stale, malformed, …).
 */
export class WebhookRejected extends Error {
  constructor(
    readonly status: 401 | 400 | 403 | 413,
    readonly reason: string,
    message = reason,
  ) {
    super(message);
    this.name = 'WebhookRejected';
  }
}

/** A send or edit that failed; the framework decides whether and when to retry. */
export class ChannelSendError extends Error {
  constructor(
    message: string,
    /** HTTP status from the platform (0: no answer). */
    readonly status: number,
    /** The platform's retry_after / Retry-After / bucket reset, in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ChannelSendError';
  }
  /** 429 and 5xx (and no answer) are worth retrying; 4xx are not. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** The platform rejected the credentials at start: the channel is unhealthy. */
export class ChannelAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChannelAuthError';
  }
}

export interface PlatformLimits {
  /** Longest message text the platform accepts (Telegram 4096, Discord 2000, …). */
  maxChars: number;
  /** Whether a sent message can be edited (streaming replies edit one message). */
  canEdit: boolean;
  /** Outbound messages per second per chat, and per bot overall. */
  perChatPerSecond: number;
  perBotPerSecond: number;
}

/** What the framework hands an adapter. */
export interface AdapterContext {
  /** Hand inbound messages (from a socket or polling loop) to the framework. */
  deliver(messages: InboundMessage[]): void;
  /** Structured log line; credentials are scrubbed by the framework. */
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
  /** Aborted when the channel stops. */
  signal: AbortSignal;
}

export interface SentMessage {
  messageId: string;
}

export interface ChannelAdapter {
  readonly platform: ChannelPlatform;
  readonly limits: PlatformLimits;
  /**
   * Checks the credentials (e.g. getMe / auth.test) and starts any socket or
   * polling loop. Throws ChannelAuthError when the platform rejects the token.
   */
  start(ctx: AdapterContext): Promise<void>;
  stop(): Promise<void>;
  /** Verifies and parses a webhook. Absent for socket-only platforms (Discord). */
  handleWebhook?(req: WebhookRequest): WebhookResult | Promise<WebhookResult>;
  /** Renders the agent's Markdown as the platform's markup, escaped as it requires. */
  render(markdown: string): string;
  /** Sends already-rendered text. Throws ChannelSendError. */
  send(chatId: string, text: string, opts?: { threadId?: string; replyTo?: string }): Promise<SentMessage>;
  /** Replaces a sent message's text. Present only where `limits.canEdit`. */
  edit?(chatId: string, messageId: string, text: string, opts?: { threadId?: string }): Promise<void>;
  /** Shows "typing…" where the platform has it. */
  typing?(chatId: string, opts?: { threadId?: string }): Promise<void>;
}
