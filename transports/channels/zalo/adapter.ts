/**
 * Zalo Official Account adapter.
 *
 *   Zalo ──POST /channels/<id>  X-ZEvent-Signature: mac=sha256(appId + raw body + timestamp + oaSecretKey)──► messages
 *   us   ──POST <apiBase>/v3.0/oa/message/cs  (header access_token)──► Zalo
 *
 * `timestamp` is the one inside the JSON body, so the body is parsed before
 * the signature can be checked. Zalo answers errors as HTTP 200 with a
 * non-zero `error` field. No edits: replies are sent whole (2000 characters).
 */
import { createHash } from 'node:crypto';
import {
  ChannelAuthError,
  ChannelSendError,
  WebhookRejected,
  type AdapterContext,
  type ChannelAdapter,
  type InboundMessage,
  type PlatformLimits,
  type SentMessage,
  type WebhookRequest,
  type WebhookResult,
} from '../adapter.js';
import { PLAIN_TEXT, renderMarkdown } from '../markdown.js';
import { digestEquals, JsonClient, isRecord, joinUrl, obj, parseJsonObject, retryAfterHeader, str, type JsonResponse } from '../wire.js';

export interface ZaloConfig {
  accessToken: string;
  oaSecretKey: string;
  appId: string;
  /** OpenAPI root (default https://openapi.zalo.me). */
  apiBase?: string;
  timeoutMs?: number;
}

/** Zalo error codes for an invalid or expired access token. */
const AUTH_ERRORS = new Set([-216, -124, -155]);
/** Zalo error code for "request rate exceeded". */
const THROTTLE_ERRORS = new Set([-32]);

export function signZalo(appId: string, rawBody: Buffer | string, timestamp: string, oaSecretKey: string): string {
  return 'mac=' + createHash('sha256').update(appId).update(rawBody).update(timestamp).update(oaSecretKey).digest('hex');
}

export class ZaloAdapter implements ChannelAdapter {
  readonly platform = 'zalo' as const;
  readonly limits: PlatformLimits = { maxChars: 2000, canEdit: false, perChatPerSecond: 1, perBotPerSecond: 10 };
  private readonly base: string;
  private readonly http: JsonClient;

  constructor(private readonly config: ZaloConfig) {
    this.base = config.apiBase ?? 'https://openapi.zalo.me';
    this.http = new JsonClient(config.timeoutMs ?? 10_000);
  }

  async start(_ctx: AdapterContext): Promise<void> {
    const res = await this.http.call(joinUrl(this.base, 'v2.0/oa/getoa'), { method: 'GET', headers: this.auth() });
    if (res.status === 401 || AUTH_ERRORS.has(zaloError(res))) {
      throw new ChannelAuthError(`Zalo rejected the access token (${zaloMessage(res)})`);
    }
    if (res.status >= 400 || zaloError(res) !== 0) throw toSendError(res);
  }

  stop(): Promise<void> {
    return this.http.close();
  }

  handleWebhook(req: WebhookRequest): WebhookResult {
    if (req.method !== 'POST') throw new WebhookRejected(400, 'malformed', 'Zalo webhooks are POST');
    const given = req.headers['x-zevent-signature'];
    if (!given) throw new WebhookRejected(401, 'bad_signature', 'missing X-ZEvent-Signature');
    const body = parseJsonObject(req.rawBody);
    const timestamp = str(body, 'timestamp');
    const expected = signZalo(this.config.appId, req.rawBody, timestamp, this.config.oaSecretKey);
    if (!timestamp || !digestEquals(expected.slice(4), given.replace(/^mac=/i, ''))) {
      throw new WebhookRejected(401, 'bad_signature', 'X-ZEvent-Signature does not match');
    }
    const event = str(body, 'event_name');
    if (!event) throw new WebhookRejected(400, 'malformed', 'no event_name');
    return { status: 200, body: '', messages: this.parse(event, body) };
  }

  private parse(event: string, body: Record<string, unknown>): InboundMessage[] {
    // user_send_text, user_send_image, user_send_sticker, …; follow, oa_send_*, user_seen_* are not messages.
    if (!event.startsWith('user_send_')) return [];
    const message = obj(body, 'message');
    const id = str(message, 'msg_id');
    const from = str(obj(body, 'sender'), 'id');
    if (!id || !from) throw new WebhookRejected(400, 'malformed', 'message without msg_id or sender');
    const isText = event === 'user_send_text';
    return [
      {
        eventId: id,
        chatId: from,
        userId: from,
        chatType: 'direct',
        kind: isText ? 'text' : 'unsupported',
        text: isText ? str(message, 'text') : '',
        addressed: true,
        messageId: id,
      },
    ];
  }

  render(markdown: string): string {
    return renderMarkdown(markdown, PLAIN_TEXT);
  }

  async send(chatId: string, text: string): Promise<SentMessage> {
    const res = await this.http.call(joinUrl(this.base, 'v3.0/oa/message/cs'),
      { method: 'POST', headers: this.auth(), body: { recipient: { user_id: chatId }, message: { text } } });
    if (res.status >= 400 || zaloError(res) !== 0) throw toSendError(res);
    const id = str(obj(res.body, 'data'), 'message_id');
    if (!id) throw new ChannelSendError('Zalo answered without a message id', res.status);
    return { messageId: id };
  }

  private auth(): Record<string, string> {
    return { access_token: this.config.accessToken };
  }
}

function zaloError(res: JsonResponse): number {
  const e = isRecord(res.body) ? res.body.error : undefined;
  return typeof e === 'number' ? e : res.status >= 400 ? -1 : 0;
}

function zaloMessage(res: JsonResponse): string {
  return str(res.body, 'message') || `HTTP ${res.status}`;
}

function toSendError(res: JsonResponse): ChannelSendError {
  const code = zaloError(res);
  if (res.status === 429 || THROTTLE_ERRORS.has(code)) {
    return new ChannelSendError(`Zalo: ${zaloMessage(res)}`, 429, retryAfterHeader(res.headers) ?? 1000);
  }
  if (res.status >= 400) return new ChannelSendError(`Zalo: ${zaloMessage(res)}`, res.status);
  return new ChannelSendError(`Zalo error ${code}: ${zaloMessage(res)}`, AUTH_ERRORS.has(code) ? 401 : 400);
}
