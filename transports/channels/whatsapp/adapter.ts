/**
 * WhatsApp Cloud API adapter.
 *
 *   Meta ──GET  /channels/<id>?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…──► echo the challenge
 *   Meta ──POST /channels/<id>  X-Hub-Signature-256: sha256=HMAC(appSecret, raw body)──► messages
 *   us   ──POST <apiBase>/<version>/<phoneNumberId>/messages  (Bearer accessToken)──► Meta
 *
 * No maintained SDK exists, so outbound is a thin `fetch` client. WhatsApp
 * cannot edit a sent message: replies are sent whole (limit 4096 characters).
 */
import { createHmac } from 'node:crypto';
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
import { renderMarkdown, WHATSAPP_MARKUP } from '../markdown.js';
import { arr, digestEquals, JsonClient, joinUrl, obj, parseJsonObject, retryAfterHeader, str, type JsonResponse } from '../wire.js';

export interface WhatsAppConfig {
  accessToken: string;
  appSecret: string;
  verifyToken: string;
  phoneNumberId: string;
  /** Graph API root (default https://graph.facebook.com). */
  apiBase?: string;
  /** Graph API version (default v21.0). */
  apiVersion?: string;
  /** Per-request timeout in ms (default 10000). */
  timeoutMs?: number;
}

/** Graph error codes that mean "slow down" (answered with 400 or 429). */
const THROTTLE_CODES = new Set([4, 80007, 130429, 131048, 131056]);
/** Graph error codes that mean the token is not valid. */
const AUTH_CODES = new Set([190, 102, 10]);

export function signWhatsApp(appSecret: string, rawBody: Buffer | string): string {
  return 'sha256=' + createHmac('sha256', appSecret).update(rawBody).digest('hex');
}

export class WhatsAppAdapter implements ChannelAdapter {
  readonly platform = 'whatsapp' as const;
  readonly limits: PlatformLimits = { maxChars: 4096, canEdit: false, perChatPerSecond: 1, perBotPerSecond: 80 };
  private readonly base: string;
  private readonly http: JsonClient;

  constructor(private readonly config: WhatsAppConfig) {
    this.base = joinUrl(config.apiBase ?? 'https://graph.facebook.com', config.apiVersion ?? 'v21.0');
    this.http = new JsonClient(config.timeoutMs ?? 10_000);
  }

  async start(_ctx: AdapterContext): Promise<void> {
    const res = await this.http.call(joinUrl(this.base, `${encodeURIComponent(this.config.phoneNumberId)}?fields=id`),
      { method: 'GET', headers: this.auth() });
    if (res.status === 401 || AUTH_CODES.has(graphErrorCode(res))) {
      throw new ChannelAuthError(`WhatsApp rejected the access token (${graphErrorMessage(res)})`);
    }
    if (res.status >= 400) throw toSendError(res);
  }

  stop(): Promise<void> {
    return this.http.close();
  }

  handleWebhook(req: WebhookRequest): WebhookResult {
    if (req.method === 'GET') return this.verify(req.query);
    const given = req.headers['x-hub-signature-256'];
    if (!given) throw new WebhookRejected(401, 'bad_signature', 'missing X-Hub-Signature-256');
    const expected = signWhatsApp(this.config.appSecret, req.rawBody);
    if (!given.startsWith('sha256=') || !digestEquals(expected.slice(7), given.slice(7))) {
      throw new WebhookRejected(401, 'bad_signature', 'X-Hub-Signature-256 does not match');
    }
    const body = parseJsonObject(req.rawBody);
    if (body.object !== 'whatsapp_business_account' || !Array.isArray(body.entry)) {
      throw new WebhookRejected(400, 'malformed', 'not a whatsapp_business_account notification');
    }
    return { status: 200, body: '', messages: this.parse(body) };
  }

  /** The subscription handshake: echo `hub.challenge` when the verify token matches. */
  private verify(query: URLSearchParams): WebhookResult {
    const challenge = query.get('hub.challenge');
    if (query.get('hub.mode') !== 'subscribe' || challenge === null) {
      throw new WebhookRejected(400, 'malformed', 'not a subscription request');
    }
    const token = query.get('hub.verify_token') ?? '';
    if (!digestEquals(Buffer.from(this.config.verifyToken).toString('hex'), Buffer.from(token).toString('hex'))) {
      throw new WebhookRejected(403, 'bad_verify_token', 'hub.verify_token does not match');
    }
    return { status: 200, body: challenge, contentType: 'text/plain', messages: [] };
  }

  private parse(body: Record<string, unknown>): InboundMessage[] {
    const out: InboundMessage[] = [];
    for (const entry of arr(body, 'entry')) {
      for (const change of arr(entry, 'changes')) {
        if (str(change, 'field') !== 'messages') continue;
        const value = obj(change, 'value');
        // One app can serve several numbers: only this channel's number is ours.
        if (str(obj(value, 'metadata'), 'phone_number_id') !== this.config.phoneNumberId) continue;
        const names = new Map<string, string>();
        for (const c of arr(value, 'contacts')) names.set(str(c, 'wa_id'), str(obj(c, 'profile'), 'name'));
        for (const m of arr(value, 'messages')) {
          const id = str(m, 'id');
          const from = str(m, 'from');
          if (!id || !from) continue;
          const isText = str(m, 'type') === 'text';
          out.push({
            eventId: id,
            chatId: from,
            userId: from,
            userName: names.get(from) || undefined,
            chatType: 'direct',
            kind: isText ? 'text' : 'unsupported',
            text: isText ? str(obj(m, 'text'), 'body') : '',
            addressed: true,
            messageId: id,
          });
        }
      }
    }
    return out;
  }

  render(markdown: string): string {
    return renderMarkdown(markdown, WHATSAPP_MARKUP);
  }

  async send(chatId: string, text: string, opts?: { replyTo?: string }): Promise<SentMessage> {
    const res = await this.http.call(joinUrl(this.base, `${encodeURIComponent(this.config.phoneNumberId)}/messages`),
      {
        method: 'POST',
        headers: this.auth(),
        body: {
          messaging_product: 'whatsapp',
          recipient_type: 'individual',
          to: chatId,
          type: 'text',
          text: { preview_url: false, body: text },
          ...(opts?.replyTo ? { context: { message_id: opts.replyTo } } : {}),
        },
      });
    if (res.status >= 400) throw toSendError(res);
    const id = str(arr(res.body, 'messages')[0], 'id');
    if (!id) throw new ChannelSendError('WhatsApp answered without a message id', res.status);
    return { messageId: id };
  }

  private auth(): Record<string, string> {
    return { authorization: `Bearer ${this.config.accessToken}` };
  }
}

function graphErrorCode(res: JsonResponse): number {
  const code = obj(res.body, 'error')?.code;
  return typeof code === 'number' ? code : -1;
}

function graphErrorMessage(res: JsonResponse): string {
  return str(obj(res.body, 'error'), 'message') || `HTTP ${res.status}`;
}

function toSendError(res: JsonResponse): ChannelSendError {
  const throttled = res.status === 429 || THROTTLE_CODES.has(graphErrorCode(res));
  const status = throttled ? 429 : res.status;
  return new ChannelSendError(`WhatsApp: ${graphErrorMessage(res)}`, status, throttled ? (retryAfterHeader(res.headers) ?? 1000) : undefined);
}
