/**
 * Feishu/Lark adapter.
 *
 *   Feishu ──POST /channels/<id>──► [signature check if encryptKey] ─► [decrypt] ─► token check
 *            url_verification ─► answer {"challenge"}
 *            im.message.receive_v1 ─► messages (dedup key: header.event_id)
 *   us ──@larksuiteoapi/node-sdk (domain = apiBase)──► Feishu
 *            tenant_access_token/internal (cached per channel), bot/v3/info,
 *            im/v1/messages create, …/reply (threads), PUT …/<id> (edit)
 *
 * Replies are `post` messages with one `md` element, so the agent's Markdown
 * renders as is, and a post can be edited (PATCH is for cards only). With
 * tracing on, sends and edits carry the current span's `traceparent`.
 */
import * as lark from '@larksuiteoapi/node-sdk';
import { currentTraceparent } from '../../../observability/tracing.js';
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
import { arr, digestEquals, isRecord, obj, parseJsonObject, str } from '../wire.js';
import { decryptFeishu, signFeishu } from './crypto.js';

export interface FeishuConfig {
  appId: string;
  appSecret: string;
  verificationToken: string;
  /** Optional: when set, events arrive encrypted and signed. */
  encryptKey?: string;
  /** Open platform root (default https://open.feishu.cn; Lark: https://open.larksuite.com). */
  apiBase?: string;
  timeoutMs?: number;
}

/** Feishu's "too many requests" business code. */
const RATE_LIMITED = 99991400;
/** Threads remembered for replies into them; oldest forgotten first. */
const MAX_THREAD_ANCHORS = 10_000;
/** Tenant token / app credential business codes. */
const AUTH_CODES = new Set([99991663, 99991664, 99991661, 10003, 10014]);

/** A per-channel token cache, so two channels of one app never share a token by accident. */
type CacheKey = Parameters<lark.Cache['get']>[0];

class TokenCache implements lark.Cache {
  private readonly entries = new Map<string, { value: unknown; expire: number }>();
  async set(key: CacheKey, value: unknown, expire?: number, options?: { namespace?: string }): Promise<boolean> {
    this.entries.set(`${options?.namespace ?? ''}:${String(key)}`, { value, expire: expire ?? Infinity });
    return true;
  }
  async get(key: CacheKey, options?: { namespace?: string }): Promise<unknown> {
    const e = this.entries.get(`${options?.namespace ?? ''}:${String(key)}`);
    return e && e.expire > Date.now() ? e.value : undefined;
  }
}

export class FeishuAdapter implements ChannelAdapter {
  readonly platform = 'feishu' as const;
  readonly limits: PlatformLimits = { maxChars: 4000, canEdit: true, perChatPerSecond: 5, perBotPerSecond: 50 };
  private readonly client: lark.Client;
  private botOpenId = '';
  /** The latest user message per thread: a reply into a thread must name a message in it. */
  private readonly threadAnchors = new Map<string, string>();

  constructor(private readonly config: FeishuConfig) {
    const quiet = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {}, trace: () => {} };
    this.client = new lark.Client({
      appId: config.appId,
      appSecret: config.appSecret,
      domain: (config.apiBase ?? 'https://open.feishu.cn').replace(/\/+$/, ''),
      cache: new TokenCache(),
      logger: quiet,
      loggerLevel: lark.LoggerLevel.error,
    });
  }

  async start(_ctx: AdapterContext): Promise<void> {
    let info: unknown;
    try {
      info = await this.client.request({ method: 'GET', url: '/open-apis/bot/v3/info' });
    } catch (err) {
      const e = toSendError(err);
      if (e.status === 401 || e.status === 403 || e.status === 400 || e.status === 0 && /token/i.test(e.message)) {
        throw new ChannelAuthError(`Feishu rejected the app credentials (${e.message})`);
      }
      throw e;
    }
    const code = codeOf(info);
    if (AUTH_CODES.has(code)) throw new ChannelAuthError(`Feishu rejected the app credentials (code ${code})`);
    if (code !== 0) throw new ChannelSendError(`Feishu bot/v3/info failed (code ${code})`, 400);
    this.botOpenId = str(obj(info, 'bot'), 'open_id');
  }

  async stop(): Promise<void> {}

  handleWebhook(req: WebhookRequest): WebhookResult {
    if (req.method !== 'POST') throw new WebhookRejected(400, 'malformed', 'Feishu events are POST');
    const key = this.config.encryptKey;
    const signature = req.headers['x-lark-signature'];
    if (key && signature) {
      const ts = req.headers['x-lark-request-timestamp'] ?? '';
      const nonce = req.headers['x-lark-request-nonce'] ?? '';
      if (!digestEquals(signFeishu(ts, nonce, key, req.rawBody), signature)) {
        throw new WebhookRejected(401, 'bad_signature', 'X-Lark-Signature does not match');
      }
    }
    let body = parseJsonObject(req.rawBody);
    if (typeof body.encrypt === 'string') {
      if (!key) throw new WebhookRejected(400, 'malformed', 'encrypted event but no encryptKey configured');
      const plain = decryptFeishu(key, body.encrypt);
      if (plain === undefined) throw new WebhookRejected(401, 'bad_signature', 'event does not decrypt with encryptKey');
      body = parseJsonObject(Buffer.from(plain, 'utf8'));
    } else if (key) {
      throw new WebhookRejected(401, 'bad_signature', 'plaintext event but encryptKey is configured');
    }
    const header = obj(body, 'header');
    const token = header ? str(header, 'token') : str(body, 'token');
    if (!digestEquals(Buffer.from(this.config.verificationToken).toString('hex'), Buffer.from(token).toString('hex'))) {
      throw new WebhookRejected(401, 'bad_token', 'verification token does not match');
    }
    if (str(body, 'type') === 'url_verification') {
      return { status: 200, body: JSON.stringify({ challenge: str(body, 'challenge') }), contentType: 'application/json', messages: [] };
    }
    // Everything else must be signed when a key is set (only the URL check may come unsigned).
    if (key && !signature) throw new WebhookRejected(401, 'bad_signature', 'missing X-Lark-Signature');
    if (!header) return { status: 200, body: '{}', contentType: 'application/json', messages: [] };
    const message = this.parse(header, obj(body, 'event'));
    return { status: 200, body: '{}', contentType: 'application/json', messages: message ? [message] : [] };
  }

  private parse(header: Record<string, unknown>, event: Record<string, unknown> | undefined): InboundMessage | undefined {
    if (str(header, 'event_type') !== 'im.message.receive_v1') return undefined;
    const eventId = str(header, 'event_id');
    const message = obj(event, 'message');
    const sender = obj(event, 'sender');
    const chatId = str(message, 'chat_id');
    const userId = str(obj(sender, 'sender_id'), 'open_id');
    if (!eventId || !message || !chatId || !userId) throw new WebhookRejected(400, 'malformed', 'message event without ids');
    if (str(sender, 'sender_type') === 'app') return undefined;
    const isText = str(message, 'message_type') === 'text';
    let text = '';
    let addressed = false;
    for (const m of arr(message, 'mentions')) {
      if (this.botOpenId !== '' && str(obj(m, 'id'), 'open_id') === this.botOpenId) addressed = true;
    }
    if (isText) {
      try {
        const content: unknown = JSON.parse(str(message, 'content'));
        text = isRecord(content) && typeof content.text === 'string' ? content.text : '';
      } catch {
        throw new WebhookRejected(400, 'malformed', 'message content is not JSON');
      }
      for (const m of arr(message, 'mentions')) {
        const k = str(m, 'key');
        if (k) text = text.split(k).join(str(obj(m, 'id'), 'open_id') === this.botOpenId ? '' : str(m, 'name'));
      }
      text = text.replace(/\s{2,}/g, ' ').trim();
    }
    const direct = str(message, 'chat_type') === 'p2p';
    const threadId = str(message, 'thread_id') || undefined;
    const messageId = str(message, 'message_id');
    if (threadId && messageId) this.rememberAnchor(threadId, messageId);
    return {
      eventId,
      chatId,
      threadId,
      userId,
      chatType: direct ? 'direct' : 'group',
      kind: isText ? 'text' : 'unsupported',
      text,
      addressed: direct || addressed,
      messageId: messageId || undefined,
    };
  }

  private rememberAnchor(threadId: string, messageId: string): void {
    this.threadAnchors.delete(threadId);
    this.threadAnchors.set(threadId, messageId);
    if (this.threadAnchors.size > MAX_THREAD_ANCHORS) {
      const oldest = this.threadAnchors.keys().next();
      if (!oldest.done) this.threadAnchors.delete(oldest.value);
    }
  }

  /** Feishu's `md` post element renders Markdown itself. */
  render(markdown: string): string {
    return markdown;
  }

  async send(chatId: string, text: string, opts?: { threadId?: string; replyTo?: string }): Promise<SentMessage> {
    const content = postContent(text);
    const anchor = opts?.threadId ? (opts.replyTo ?? this.threadAnchors.get(opts.threadId)) : undefined;
    const res = await this.call(() =>
      anchor
        ? this.client.im.message.reply({
            path: { message_id: anchor },
            data: { msg_type: 'post', content, reply_in_thread: true },
          }, traceOptions())
        : this.client.im.message.create({
            params: { receive_id_type: 'chat_id' },
            data: { receive_id: chatId, msg_type: 'post', content },
          }, traceOptions()),
    );
    const id = str(obj(res, 'data'), 'message_id');
    if (!id) throw new ChannelSendError('Feishu answered without a message id', 200);
    return { messageId: id };
  }

  async edit(_chatId: string, messageId: string, text: string): Promise<void> {
    await this.call(() =>
      this.client.im.message.update({ path: { message_id: messageId }, data: { msg_type: 'post', content: postContent(text) } }, traceOptions()),
    );
  }

  /** Runs one SDK call and maps both HTTP errors and non-zero business codes. */
  private async call(fn: () => Promise<unknown>): Promise<unknown> {
    let res: unknown;
    try {
      res = await fn();
    } catch (err) {
      throw toSendError(err);
    }
    const code = codeOf(res);
    if (code === 0) return res;
    if (code === RATE_LIMITED) throw new ChannelSendError('Feishu rate limit', 429, 1000);
    throw new ChannelSendError(`Feishu error ${code}: ${str(res, 'msg')}`, AUTH_CODES.has(code) ? 401 : 400);
  }
}

/**
 * A call's request options with the current span's `traceparent` (the SDK
 * sends a call's `headers`), or none outside a trace. Fresh each call: the
 * SDK writes the tenant token's Authorization into that headers object.
 */
function traceOptions(): { headers: Record<string, string> } | undefined {
  const traceparent = currentTraceparent();
  return traceparent === undefined ? undefined : { headers: { traceparent } };
}

function postContent(markdown: string): string {
  return JSON.stringify({ zh_cn: { content: [[{ tag: 'md', text: markdown }]] } });
}

function codeOf(res: unknown): number {
  return isRecord(res) && typeof res.code === 'number' ? res.code : -1;
}

/** Axios errors from the SDK (HTTP status, Feishu's rate-limit reset header) → ChannelSendError. */
function toSendError(err: unknown): ChannelSendError {
  if (err instanceof ChannelSendError) return err;
  const response = isRecord(err) ? obj(err, 'response') : undefined;
  const status = typeof response?.status === 'number' ? response.status : 0;
  const data = response?.data;
  const code = codeOf(data);
  if (status === 429 || code === RATE_LIMITED) {
    const reset = Number(str(obj(response, 'headers'), 'x-ogw-ratelimit-reset'));
    return new ChannelSendError('Feishu rate limit', 429, Number.isFinite(reset) && reset > 0 ? reset * 1000 : 1000);
  }
  const detail = isRecord(data) && typeof data.msg === 'string' ? data.msg : (err as Error).message;
  return new ChannelSendError(`Feishu: ${detail}`, status);
}
