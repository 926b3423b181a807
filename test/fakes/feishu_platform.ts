// A fake Feishu/Lark open platform: tenant_access_token/internal, bot/v3/info,
// im/v1/messages create, reply and PUT (edit), with Bearer tenant tokens and
// business codes; and the event callbacks Feishu sends, encrypted
// (AES-256-CBC, key sha256(encryptKey)) and signed (X-Lark-Signature).

import { randomBytes } from 'node:crypto';
import { encryptFeishu, signFeishu } from '../../transports/channels/feishu/crypto.js';
import { ChatPlatformFake, header, postWebhook, type FakeRequest, type FakeResponse, type FakeOptions } from './chat_platform.js';

export interface FeishuFakeConfig {
  appId: string;
  appSecret: string;
  verificationToken: string;
  encryptKey?: string;
  botOpenId?: string;
}

export interface FeishuInbound {
  chatId: string;
  userId: string;
  text?: string;
  chatType?: 'p2p' | 'group';
  mentionBot?: boolean;
  threadId?: string;
  eventId?: string;
  messageType?: string;
}

let seq = 0;

export class FeishuFake extends ChatPlatformFake {
  readonly botOpenId: string;
  private readonly tokens = new Set<string>();
  tokenRequests = 0;

  constructor(readonly config: FeishuFakeConfig, options: FakeOptions = {}) {
    super(options);
    this.botOpenId = config.botOpenId ?? 'ou_bot';
  }

  get apiBase(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  protected faultable(req: FakeRequest): boolean {
    return req.path.startsWith('/open-apis/im/v1/messages');
  }

  protected route(req: FakeRequest): FakeResponse {
    if (req.method === 'POST' && req.path === '/open-apis/auth/v3/tenant_access_token/internal') {
      this.tokenRequests++;
      const b = req.body as { app_id?: string; app_secret?: string };
      if (b.app_id !== this.config.appId || b.app_secret !== this.config.appSecret) {
        return { status: 400, body: { code: 10014, msg: 'app secret invalid' } };
      }
      const token = `t-${randomBytes(8).toString('hex')}`;
      this.tokens.add(token);
      return { status: 200, body: { code: 0, msg: 'ok', tenant_access_token: token, expire: 7200 } };
    }
    const auth = header(req.headers, 'authorization');
    if (!auth.startsWith('Bearer ') || !this.tokens.has(auth.slice(7))) {
      return { status: 400, body: { code: 99991663, msg: 'Invalid access token for authorization.' } };
    }
    if (req.method === 'GET' && req.path === '/open-apis/bot/v3/info') {
      return { status: 200, body: { code: 0, msg: 'ok', bot: { open_id: this.botOpenId, app_name: 'Troupe', activate_status: 2 } } };
    }
    if (req.method === 'POST' && req.path === '/open-apis/im/v1/messages') {
      if (req.query.get('receive_id_type') !== 'chat_id') return bad('receive_id_type');
      const b = req.body as { receive_id?: string; msg_type?: string; content?: string };
      const text = postText(b.msg_type, b.content);
      if (!b.receive_id || text === undefined) return bad('content');
      const m = this.post(b.receive_id, text, { id: `om_${++seq}` });
      return ok(m.id, m.chatId);
    }
    const reply = /^\/open-apis\/im\/v1\/messages\/([^/]+)\/reply$/.exec(req.path);
    if (req.method === 'POST' && reply) {
      const parent = this.posted.find((p) => p.id === reply[1]);
      const b = req.body as { msg_type?: string; content?: string; reply_in_thread?: boolean };
      const text = postText(b.msg_type, b.content);
      if (text === undefined) return bad('content');
      const chatId = parent?.chatId ?? this.inboundChats.get(reply[1] ?? '') ?? '';
      const threadId = this.inboundThreads.get(reply[1] ?? '');
      const m = this.post(chatId, text, { id: `om_${++seq}`, replyTo: reply[1], threadId });
      return ok(m.id, m.chatId);
    }
    const edit = /^\/open-apis\/im\/v1\/messages\/([^/]+)$/.exec(req.path);
    if (req.method === 'PUT' && edit) {
      const b = req.body as { msg_type?: string; content?: string };
      const text = postText(b.msg_type, b.content);
      if (text === undefined) return bad('content');
      const m = this.edit(edit[1] ?? '', text);
      return m ? ok(m.id, m.chatId) : { status: 400, body: { code: 230001, msg: 'message not found' } };
    }
    return { status: 404, body: { code: 404, msg: 'not found' } };
  }

  /** Inbound message ids → chat / thread, so a reply lands where the user wrote. */
  private readonly inboundChats = new Map<string, string>();
  private readonly inboundThreads = new Map<string, string>();

  /** The plaintext `im.message.receive_v1` event for one user message. */
  event(msg: FeishuInbound): { plain: string; eventId: string; messageId: string } {
    const eventId = msg.eventId ?? `ev_${++seq}`;
    const messageId = `om_in_${++seq}`;
    this.inboundChats.set(messageId, msg.chatId);
    if (msg.threadId) this.inboundThreads.set(messageId, msg.threadId);
    const mentions = msg.mentionBot
      ? [{ key: '@_user_1', id: { open_id: this.botOpenId, union_id: 'on_bot', user_id: '' }, name: 'Troupe', tenant_key: 'tk' }]
      : [];
    const text = (msg.mentionBot ? '@_user_1 ' : '') + (msg.text ?? '');
    const plain = {
      schema: '2.0',
      header: {
        event_id: eventId,
        token: this.config.verificationToken,
        create_time: String(Date.now()),
        event_type: 'im.message.receive_v1',
        tenant_key: 'tk',
        app_id: this.config.appId,
      },
      event: {
        sender: { sender_id: { open_id: msg.userId, union_id: `on_${msg.userId}`, user_id: '' }, sender_type: 'user', tenant_key: 'tk' },
        message: {
          message_id: messageId,
          root_id: msg.threadId ? 'om_root' : '',
          parent_id: '',
          thread_id: msg.threadId ?? '',
          create_time: String(Date.now()),
          chat_id: msg.chatId,
          chat_type: msg.chatType ?? 'p2p',
          message_type: msg.messageType ?? 'text',
          content: JSON.stringify(msg.messageType && msg.messageType !== 'text' ? { image_key: 'img_1' } : { text }),
          mentions,
        },
      },
    };
    return { plain: JSON.stringify(plain), eventId, messageId };
  }

  /** The URL check Feishu sends when the request URL is saved. */
  challenge(challenge: string): string {
    return JSON.stringify({ challenge, token: this.config.verificationToken, type: 'url_verification' });
  }

  /** Wraps a plaintext event as Feishu sends it: encrypted when an encryptKey is set. */
  wire(plain: string): string {
    return this.config.encryptKey ? JSON.stringify({ encrypt: encryptFeishu(this.config.encryptKey, plain) }) : plain;
  }

  /** POSTs a wire body with the signature headers (when an encryptKey is set). */
  deliver(webhookUrl: string, rawBody: string, opts: { signature?: string; unsigned?: boolean } = {}): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = {};
    if (this.config.encryptKey && !opts.unsigned) {
      const ts = String(Math.floor(Date.now() / 1000));
      const nonce = randomBytes(8).toString('hex');
      headers['x-lark-request-timestamp'] = ts;
      headers['x-lark-request-nonce'] = nonce;
      headers['x-lark-signature'] = opts.signature ?? signFeishu(ts, nonce, this.config.encryptKey, rawBody);
    }
    return postWebhook(webhookUrl, rawBody, headers);
  }
}

function postText(msgType: string | undefined, content: string | undefined): string | undefined {
  if (!content) return undefined;
  try {
    const c = JSON.parse(content) as Record<string, unknown>;
    if (msgType === 'text') return typeof c.text === 'string' ? c.text : undefined;
    if (msgType !== 'post') return undefined;
    const lang = (c.zh_cn ?? c.en_us) as { content?: Array<Array<{ tag?: string; text?: string }>> } | undefined;
    const rows = lang?.content;
    if (!Array.isArray(rows)) return undefined;
    return rows.map((row) => row.map((el) => el.text ?? '').join('')).join('\n');
  } catch {
    return undefined;
  }
}

function ok(messageId: string, chatId: string): FeishuResponse {
  return { status: 200, body: { code: 0, msg: 'success', data: { message_id: messageId, chat_id: chatId, msg_type: 'post' } } };
}

function bad(field: string): FeishuResponse {
  return { status: 400, body: { code: 230001, msg: `invalid ${field}` } };
}

type FeishuResponse = FakeResponse;

export const FEISHU_THROTTLED: FakeResponse = {
  status: 429,
  headers: { 'x-ogw-ratelimit-limit': '5', 'x-ogw-ratelimit-reset': '1' },
  body: { code: 99991400, msg: 'request trigger frequency limit' },
};
