/** Telegram Bot API updates (as webhooks and getUpdates deliver them) → InboundMessage. */
import type { InboundMessage } from '../adapter.js';

interface TgUser { id: number; is_bot?: boolean; first_name?: string; username?: string }
interface TgEntity { type: string; offset: number; length: number; user?: TgUser }
interface TgMessage {
  message_id: number;
  message_thread_id?: number;
  is_topic_message?: boolean;
  from?: TgUser;
  chat: { id: number; type: 'private' | 'group' | 'supergroup' | 'channel' };
  text?: string;
  entities?: TgEntity[];
  reply_to_message?: { from?: TgUser };
}
export interface TgUpdate { update_id: number; message?: TgMessage }

export interface TelegramBot { id: number; username: string }

function isUpdate(v: unknown): v is TgUpdate {
  return typeof v === 'object' && v !== null && typeof (v as TgUpdate).update_id === 'number';
}

/** The message an update carries, or undefined for kinds the channel ignores (edits, callbacks, channel posts). */
export function parseUpdate(raw: unknown, bot: TelegramBot | undefined): InboundMessage | undefined {
  if (!isUpdate(raw)) throw new TypeError('not a Telegram update');
  const msg = raw.message;
  if (msg === undefined || msg.from === undefined || typeof msg.chat?.id !== 'number' || msg.chat.type === 'channel') return undefined;
  const direct = msg.chat.type === 'private';
  let text = msg.text ?? '';
  let addressed = direct;
  const handle = bot === undefined ? undefined : `@${bot.username}`.toLowerCase();
  // Remove the bot's @mentions (last first, so offsets stay valid) and note that it was addressed.
  for (const e of [...(msg.entities ?? [])].sort((a, b) => b.offset - a.offset)) {
    const piece = text.slice(e.offset, e.offset + e.length);
    if (e.type === 'mention' && handle !== undefined && piece.toLowerCase() === handle) {
      addressed = true;
      text = text.slice(0, e.offset) + text.slice(e.offset + e.length);
    } else if (e.type === 'text_mention' && e.user?.id === bot?.id) addressed = true;
    else if (e.type === 'bot_command' && handle !== undefined && piece.toLowerCase().endsWith(handle)) addressed = true;
  }
  if (bot !== undefined && msg.reply_to_message?.from?.id === bot.id) addressed = true;
  return {
    eventId: String(raw.update_id),
    chatId: String(msg.chat.id),
    ...(msg.is_topic_message === true && msg.message_thread_id !== undefined ? { threadId: String(msg.message_thread_id) } : {}),
    userId: String(msg.from.id),
    ...(msg.from.username !== undefined ? { userName: msg.from.username } : msg.from.first_name !== undefined ? { userName: msg.from.first_name } : {}),
    chatType: direct ? 'direct' : 'group',
    kind: msg.text === undefined ? 'unsupported' : 'text',
    text: text.replace(/\s+/g, ' ').trim(),
    addressed,
    messageId: String(msg.message_id),
  };
}
