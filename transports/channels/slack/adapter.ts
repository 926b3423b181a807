/**
 * Slack through `@slack/web-api`'s WebClient, pointed at `apiBase` as its
 * `slackApiUrl`. Inbound: the Events API (signed webhooks, see events.ts).
 * Outbound: chat.postMessage and chat.update in mrkdwn, threads by
 * `thread_ts`. The client's own retries are off: the channel's queue owns
 * retries and limits.
 */
import { ErrorCode, LogLevel, WebClient, type FetchFunction } from '@slack/web-api';
import {
  ChannelAuthError, ChannelSendError, WebhookRejected,
  type AdapterContext, type ChannelAdapter, type PlatformLimits, type SentMessage, type WebhookRequest, type WebhookResult,
} from '../adapter.js';
import type { ChannelSpec } from '../config.js';
import { renderMarkdown, SLACK_MRKDWN } from '../markdown.js';
import { SdkFetch } from '../sdk_fetch.js';
import { parseSlackEvent, verifySlackRequest, type SlackBody } from './events.js';

/** Slack accepts 40,000 characters but asks apps to keep a message under 4,000. */
export const SLACK_LIMITS: PlatformLimits = { maxChars: 4000, canEdit: true, perChatPerSecond: 1, perBotPerSecond: 20 };

const AUTH_ERRORS = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired']);

function sendError(err: unknown): ChannelSendError {
  const e = err as { code?: string; retryAfter?: number; statusCode?: number; data?: { error?: string }; message?: string };
  switch (e.code) {
    case ErrorCode.RateLimitedError:
      return new ChannelSendError('rate limited', 429, (e.retryAfter ?? 1) * 1000);
    case ErrorCode.HTTPError:
      return new ChannelSendError(`HTTP ${e.statusCode ?? 0}`, e.statusCode ?? 0);
    case ErrorCode.PlatformError:
      return new ChannelSendError(e.data?.error ?? 'platform error', 400);
    default:
      return new ChannelSendError(e.message ?? String(err), 0);
  }
}

export class SlackAdapter implements ChannelAdapter {
  readonly platform = 'slack' as const;
  readonly limits = SLACK_LIMITS;
  readonly #client: WebClient;
  /** The client's transport: undici keep-alive connections, each call carrying the turn's traceparent. */
  readonly #http = new SdkFetch();
  #botUserId: string | undefined;

  constructor(private readonly spec: ChannelSpec) {
    const base = spec.apiBase === undefined ? undefined : spec.apiBase.replace(/\/*$/, '/');
    this.#client = new WebClient(spec.credentials.botToken, {
      ...(base === undefined ? {} : { slackApiUrl: base }),
      fetch: this.#http.fetch as unknown as FetchFunction,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logLevel: LogLevel.ERROR,
      timeout: 30_000,
    });
  }

  async start(_ctx: AdapterContext): Promise<void> {
    try {
      const auth = await this.#client.auth.test();
      this.#botUserId = auth.user_id;
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error;
      if (code !== undefined && AUTH_ERRORS.has(code)) throw new ChannelAuthError(`auth.test: ${code}`);
      throw sendError(err);
    }
  }

  stop(): Promise<void> {
    return this.#http.close();
  }

  handleWebhook(req: WebhookRequest): WebhookResult {
    if (req.method !== 'POST') throw new WebhookRejected(400, 'malformed', 'Slack events are POST');
    verifySlackRequest(req, this.spec.credentials.signingSecret);
    let body: SlackBody;
    try {
      body = JSON.parse(req.rawBody.toString('utf8')) as SlackBody;
    } catch {
      throw new WebhookRejected(400, 'malformed', 'body is not JSON');
    }
    if (typeof body !== 'object' || body === null || typeof body.type !== 'string') throw new WebhookRejected(400, 'malformed', 'not a Slack event');
    if (body.type === 'url_verification' && 'challenge' in body) {
      return { status: 200, contentType: 'application/json', body: JSON.stringify({ challenge: body.challenge }), messages: [] };
    }
    if (body.type !== 'event_callback' || !('event' in body) || typeof body.event !== 'object' || body.event === null) return { status: 200, messages: [] };
    const message = parseSlackEvent(body.event, this.#botUserId);
    return { status: 200, messages: message === undefined ? [] : [message] };
  }

  render(markdown: string): string {
    return renderMarkdown(markdown, SLACK_MRKDWN);
  }

  async send(chatId: string, text: string, opts: { threadId?: string } = {}): Promise<SentMessage> {
    try {
      const res = await this.#client.chat.postMessage({ channel: chatId, text, mrkdwn: true, ...(opts.threadId === undefined ? {} : { thread_ts: opts.threadId }) });
      return { messageId: String(res.ts) };
    } catch (err) {
      throw sendError(err);
    }
  }

  async edit(chatId: string, messageId: string, text: string): Promise<void> {
    try {
      await this.#client.chat.update({ channel: chatId, ts: messageId, text });
    } catch (err) {
      throw sendError(err);
    }
  }
}
