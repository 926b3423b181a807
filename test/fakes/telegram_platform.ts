// A fake Telegram Bot API (https://core.telegram.org/bots/api): the paths
// `/bot<token>/<method>`, `{ ok, result }` / `{ ok: false, error_code,
// description, parameters }` answers, editMessageText's "message is not
// modified", getUpdates long polling, and the updates Telegram POSTs to a
// webhook (signed with `X-Telegram-Bot-Api-Secret-Token`).
import { ChatPlatformFake, type FakeRequest, type FakeResponse, type FakeOptions } from './chat_platform.js';

export const TG_TOKEN = '123456789:AAFakeTelegramTokenForTestsOnly_abcdefgh';
export const TG_SECRET = 'tg-webhook-secret-for-tests';
export const TG_BOT = { id: 777000, is_bot: true, first_name: 'Troupe', username: 'troupe_test_bot' };

const MAX_QUEUED_UPDATES = 1000;

export class FakeTelegram extends ChatPlatformFake {
  #inboundId = 1000;
  #updateId = 5000;
  #updates: Record<string, unknown>[] = [];

  constructor(readonly token = TG_TOKEN, options: FakeOptions = {}) {
    super(options);
  }

  protected faultable(req: FakeRequest): boolean {
    return req.path.endsWith('/sendMessage') || req.path.endsWith('/editMessageText');
  }

  protected async route(req: FakeRequest): Promise<FakeResponse> {
    const m = /^\/bot([^/]+)\/(\w+)$/.exec(req.path);
    if (m === null) return { status: 404, body: { ok: false, error_code: 404, description: 'Not Found' } };
    if (m[1] !== this.token) return { status: 401, body: { ok: false, error_code: 401, description: 'Unauthorized' } };
    const p = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const ok = (result: unknown): FakeResponse => ({ status: 200, body: { ok: true, result } });
    switch (m[2]) {
      case 'getMe':
        return ok(TG_BOT);
      case 'sendMessage': {
        const thread = p.message_thread_id === undefined ? undefined : String(p.message_thread_id);
        const sent = this.post(String(p.chat_id), String(p.text), { threadId: thread });
        return ok({ message_id: Number(sent.id), date: 1_700_000_000, chat: { id: Number(p.chat_id), type: 'private' }, text: sent.text });
      }
      case 'editMessageText': {
        const sent = this.message(String(p.message_id));
        if (sent === undefined || sent.chatId !== String(p.chat_id)) {
          return { status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: message to edit not found' } };
        }
        if (sent.text === p.text) {
          return { status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message' } };
        }
        this.edit(sent.id, String(p.text));
        return ok({ message_id: Number(sent.id), text: sent.text });
      }
      case 'sendChatAction':
      case 'deleteWebhook':
        return ok(true);
      case 'getUpdates': {
        const offset = Number(p.offset ?? 0);
        this.#updates = this.#updates.filter((u) => Number(u.update_id) >= offset);
        for (let i = 0; i < 20 && this.#updates.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
        return ok(this.#updates);
      }
      default:
        return { status: 404, body: { ok: false, error_code: 404, description: 'Not Found: method not found' } };
    }
  }

  /** Queues an update for getUpdates (polling mode). */
  queueUpdate(update: Record<string, unknown>): void {
    if (this.#updates.length >= MAX_QUEUED_UPDATES) throw new Error('fake Telegram: update queue full');
    this.#updates.push(update);
  }

  /** A message update as Telegram sends it; ids are fresh unless given. */
  update(o: {
    text?: string; chatId?: number; userId?: number; username?: string; group?: boolean; mention?: boolean;
    threadId?: number; replyToBot?: boolean; photo?: boolean; updateId?: number;
  }): Record<string, unknown> {
    const userId = o.userId ?? 4242;
    const chatId = o.chatId ?? (o.group === true ? -100_123 : userId);
    let text = o.text ?? 'hello';
    const entities: Record<string, unknown>[] = [];
    if (o.mention === true) {
      text = `@${TG_BOT.username} ${text}`;
      entities.push({ type: 'mention', offset: 0, length: TG_BOT.username.length + 1 });
    }
    const command = /^\/\w+/.exec(text);
    if (command !== null) entities.push({ type: 'bot_command', offset: 0, length: command[0].length });
    const message: Record<string, unknown> = {
      message_id: this.#inboundId++,
      from: { id: userId, is_bot: false, first_name: 'Ada', username: o.username ?? 'ada' },
      chat: o.group === true ? { id: chatId, type: 'supergroup', title: 'Team', ...(o.threadId === undefined ? {} : { is_forum: true }) } : { id: chatId, type: 'private', first_name: 'Ada' },
      date: Math.floor(Date.now() / 1000),
      ...(o.photo === true ? { photo: [{ file_id: 'AgAD', file_unique_id: 'AQAD', width: 90, height: 90 }] } : { text }),
      ...(entities.length > 0 && o.photo !== true ? { entities } : {}),
      ...(o.threadId === undefined ? {} : { message_thread_id: o.threadId, is_topic_message: true }),
      ...(o.replyToBot === true ? { reply_to_message: { message_id: 1, from: TG_BOT, chat: { id: chatId, type: 'supergroup' }, date: 1, text: 'earlier' } } : {}),
    };
    return { update_id: o.updateId ?? this.#updateId++, message };
  }
}
