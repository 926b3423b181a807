// A fake Telegram Bot API (https://core.telegram.org/bots/api): the paths
// `/bot<token>/<method>`, `{ ok, result }` / `{ ok: false, error_code,
// description, parameters }` answers, message ids per chat, editMessageText's
// "message is not modified", and getUpdates long polling.
import type { IncomingMessage } from 'node:http';
import { FakePlatform, type FakeAnswer, type PlatformCall } from './fake_platform.js';

export const TG_TOKEN = '123456789:AAFakeTelegramTokenForTestsOnly_abcdefgh';
export const TG_SECRET = 'tg-webhook-secret-for-tests';
export const TG_BOT = { id: 777000, is_bot: true, first_name: 'Troupe', username: 'troupe_test_bot' };

export interface TgSent { chatId: string; messageId: number; text: string; threadId?: number; edits: number }

export class FakeTelegram extends FakePlatform {
  /** Every message the bot sent, with its current text. */
  readonly sent: TgSent[] = [];
  #nextId = 1000;
  #updateId = 5000;
  #updates: Record<string, unknown>[] = [];

  constructor(readonly token = TG_TOKEN) {
    super();
  }

  protected parsePath(req: IncomingMessage): { method: string; credential: string } | undefined {
    const m = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
    return m === null ? undefined : { credential: m[1], method: m[2] };
  }

  protected async answer(call: PlatformCall, token: string): Promise<FakeAnswer> {
    if (token !== this.token) return { status: 401, body: { ok: false, error_code: 401, description: 'Unauthorized' } };
    const p = call.params;
    const ok = (result: unknown): FakeAnswer => ({ status: 200, body: { ok: true, result } });
    switch (call.method) {
      case 'getMe':
        return ok(TG_BOT);
      case 'sendMessage': {
        const msg: TgSent = { chatId: String(p.chat_id), messageId: this.#nextId++, text: String(p.text), edits: 0,
          ...(p.message_thread_id === undefined ? {} : { threadId: Number(p.message_thread_id) }) };
        this.sent.push(msg);
        return ok({ message_id: msg.messageId, date: 1_700_000_000, chat: { id: Number(p.chat_id), type: 'private' }, text: msg.text });
      }
      case 'editMessageText': {
        const msg = this.sent.find((s) => s.chatId === String(p.chat_id) && s.messageId === Number(p.message_id));
        if (msg === undefined) return { status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: message to edit not found' } };
        if (msg.text === p.text) {
          return { status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message' } };
        }
        msg.text = String(p.text);
        msg.edits++;
        return ok({ message_id: msg.messageId, text: msg.text });
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

  /** Messages sent to `chatId`, oldest first. */
  to(chatId: number | string): TgSent[] {
    return this.sent.filter((s) => s.chatId === String(chatId));
  }

  /** Queues an update for getUpdates (polling mode). */
  queueUpdate(update: Record<string, unknown>): void {
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
      message_id: this.#nextId++,
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
