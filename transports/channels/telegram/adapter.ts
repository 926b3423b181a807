/**
 * Telegram through grammY's `Api` (the Bot API client), pointed at `apiBase`
 * as its `apiRoot`. Inbound: webhooks checked against
 * `X-Telegram-Bot-Api-Secret-Token`, or a getUpdates long-polling loop
 * (`mode: "polling"`, for a machine with no public URL). Replies are HTML
 * (`parse_mode: "HTML"`), edited in place while they stream.
 *
 * The bot token is part of every Bot API URL; grammY never puts URLs in its
 * errors, and the framework scrubs every log line (security/scrub knows the
 * token's shape) all the same.
 */
import { timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Api, GrammyError, HttpError, type ApiClientOptions } from 'grammy';
import {
  ChannelAuthError, ChannelSendError, WebhookRejected,
  type AdapterContext, type ChannelAdapter, type PlatformLimits, type SentMessage, type WebhookRequest, type WebhookResult,
} from '../adapter.js';
import type { ChannelSpec } from '../config.js';
import { renderMarkdown, TELEGRAM_HTML } from '../markdown.js';
import { SdkFetch } from '../sdk_fetch.js';
import { parseUpdate, type TelegramBot, type TgUpdate } from './parse.js';

/** grammY types its signal with the abort-controller polyfill; Node's is the same at run time. */
type GrammySignal = Parameters<Api['getMe']>[0];

export const TELEGRAM_LIMITS: PlatformLimits = { maxChars: 4096, canEdit: true, perChatPerSecond: 1, perBotPerSecond: 30 };

/** A Bot API error as a ChannelSendError (429 carries retry_after in seconds). */
function sendError(err: unknown): ChannelSendError {
  if (err instanceof GrammyError) {
    const retry = err.parameters.retry_after;
    return new ChannelSendError(`${err.method}: ${err.description}`, err.error_code, retry === undefined ? undefined : retry * 1000);
  }
  if (err instanceof HttpError) return new ChannelSendError(`network error: ${err.message}`, 0);
  return new ChannelSendError(String((err as Error)?.message ?? err), 0);
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class TelegramAdapter implements ChannelAdapter {
  readonly platform = 'telegram' as const;
  readonly limits = TELEGRAM_LIMITS;
  readonly #api: Api;
  #bot: TelegramBot | undefined;
  #polling: Promise<void> | undefined;
  /** grammY's transport: undici keep-alive connections, each call carrying the turn's traceparent (sdk_fetch.ts). */
  readonly #http = new SdkFetch();

  constructor(private readonly spec: ChannelSpec) {
    this.#api = new Api(spec.credentials.token, {
      ...(spec.apiBase === undefined ? {} : { apiRoot: spec.apiBase.replace(/\/+$/, '') }),
      fetch: this.#http.fetch as unknown as ApiClientOptions['fetch'],
      timeoutSeconds: 60,
    });
  }

  async start(ctx: AdapterContext): Promise<void> {
    try {
      const me = await this.#api.getMe(ctx.signal as GrammySignal);
      this.#bot = { id: me.id, username: me.username };
    } catch (err) {
      if (err instanceof GrammyError && (err.error_code === 401 || err.error_code === 404)) throw new ChannelAuthError(`getMe: ${err.description}`);
      throw err;
    }
    if (this.spec.mode === 'polling') this.#polling = this.#poll(ctx);
  }

  async stop(): Promise<void> {
    await this.#polling;
    await this.#http.close();
  }

  handleWebhook(req: WebhookRequest): WebhookResult {
    if (req.method !== 'POST') throw new WebhookRejected(400, 'malformed', 'Telegram webhooks are POST');
    const secret = this.spec.credentials.webhookSecret;
    if (secret === undefined || !sameSecret(req.headers['x-telegram-bot-api-secret-token'], secret)) throw new WebhookRejected(401, 'bad_signature');
    let update: unknown;
    try {
      update = JSON.parse(req.rawBody.toString('utf8'));
    } catch {
      throw new WebhookRejected(400, 'malformed', 'body is not JSON');
    }
    let message;
    try {
      message = parseUpdate(update, this.#bot);
    } catch {
      throw new WebhookRejected(400, 'malformed', 'not a Telegram update');
    }
    return { status: 200, messages: message === undefined ? [] : [message] };
  }

  render(markdown: string): string {
    return renderMarkdown(markdown, TELEGRAM_HTML);
  }

  async send(chatId: string, text: string, opts: { threadId?: string; replyTo?: string } = {}): Promise<SentMessage> {
    try {
      const sent = await this.#api.sendMessage(chatId, text, {
        parse_mode: 'HTML',
        ...(opts.threadId === undefined ? {} : { message_thread_id: Number(opts.threadId) }),
        ...(opts.replyTo === undefined ? {} : { reply_parameters: { message_id: Number(opts.replyTo), allow_sending_without_reply: true } }),
      });
      return { messageId: String(sent.message_id) };
    } catch (err) {
      throw sendError(err);
    }
  }

  async edit(chatId: string, messageId: string, text: string): Promise<void> {
    try {
      await this.#api.editMessageText(chatId, Number(messageId), text, { parse_mode: 'HTML' });
    } catch (err) {
      // The same text again is not an error worth retrying or reporting.
      if (err instanceof GrammyError && err.error_code === 400 && /not modified/i.test(err.description)) return;
      throw sendError(err);
    }
  }

  async typing(chatId: string, opts: { threadId?: string } = {}): Promise<void> {
    try {
      await this.#api.sendChatAction(chatId, 'typing', opts.threadId === undefined ? {} : { message_thread_id: Number(opts.threadId) });
    } catch (err) {
      throw sendError(err);
    }
  }

  /** getUpdates long polling until the channel stops; failures back off up to 10 s. */
  async #poll(ctx: AdapterContext): Promise<void> {
    let offset = 0;
    let failures = 0;
    while (!ctx.signal.aborted) {
      let updates: TgUpdate[];
      try {
        updates = (await this.#api.getUpdates({ offset, timeout: 25, allowed_updates: ['message'] }, ctx.signal as GrammySignal)) as unknown as TgUpdate[];
        failures = 0;
      } catch (err) {
        if (ctx.signal.aborted) return;
        failures++;
        const waitMs = err instanceof GrammyError && err.error_code === 429
          ? (err.parameters.retry_after ?? 1) * 1000
          : Math.min(10_000, 500 * 2 ** Math.min(failures, 5));
        ctx.log('warn', 'telegram getUpdates failed', { error: sendError(err).message, waitMs });
        await sleep(waitMs, undefined, { signal: ctx.signal }).catch(() => undefined);
        continue;
      }
      const messages = [];
      for (const u of updates) {
        offset = Math.max(offset, u.update_id + 1);
        try {
          const m = parseUpdate(u, this.#bot);
          if (m !== undefined) messages.push(m);
        } catch {
          ctx.log('warn', 'telegram update ignored: not a message update');
        }
      }
      if (messages.length > 0) ctx.deliver(messages);
    }
  }
}
