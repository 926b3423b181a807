/**
 * What `troupe bench channel` needs from one platform: its fake (the API the
 * gateway replies to, run in the bench process, which timestamps every reply),
 * the channel entry for the gateway's config, and signed webhooks.
 */
import type { ChatPlatformFake, FakeOptions } from '../../test/fakes/chat_platform.js';
import { FakeSlack } from '../../test/fakes/slack_platform.js';
import { FakeTelegram } from '../../test/fakes/telegram_platform.js';
import { WhatsAppFake } from '../../test/fakes/whatsapp_platform.js';
import { signWhatsApp } from '../../transports/channels/whatsapp/adapter.js';

export type BenchPlatformName = 'telegram' | 'slack' | 'whatsapp';
export const BENCH_PLATFORMS: readonly BenchPlatformName[] = ['telegram', 'slack', 'whatsapp'];

/** A reply as the fake saw it: the chat it went to, its text, and whether it was a new message or an edit. */
export type ReplyListener = (chat: string, text: string, kind: 'post' | 'edit') => void;

export interface BenchPlatform {
  start(onReply: ReplyListener): Promise<void>;
  stop(): Promise<void>;
  /** The channel entry (platform, apiBase, credentials) for the gateway's config file. */
  channel(): Record<string, string>;
  /** The id of the i-th chat, as the platform writes it. */
  chatId(i: number): string;
  /** A signed webhook for one user message in `chat`; `n` makes its event id unique. */
  webhook(chat: string, n: number, text: string): { body: string; headers: Record<string, string> };
}

/** Start, stop and reply timing are the same for every fake. */
abstract class FakeBench implements BenchPlatform {
  protected abstract readonly fake: ChatPlatformFake;
  /** Benchmarks keep no history; `front` picks the HTTP server the fake answers from. */
  constructor(protected readonly options: FakeOptions) {}
  async start(onReply: ReplyListener): Promise<void> {
    this.fake.onPost = (m, kind) => onReply(m.chatId, m.text, kind);
    await this.fake.start();
  }
  stop(): Promise<void> {
    return this.fake.stop();
  }
  chatId(i: number): string {
    return String(15_550_100_000 + i);
  }
  abstract channel(): Record<string, string>;
  abstract webhook(chat: string, n: number, text: string): { body: string; headers: Record<string, string> };
}

const WA = { accessToken: 'bench-wa-token', appSecret: 'bench-wa-secret', verifyToken: 'bench-verify', phoneNumberId: '1065550000' };

class WhatsAppBench extends FakeBench {
  protected readonly fake = new WhatsAppFake(WA, this.options);
  channel(): Record<string, string> {
    return { platform: 'whatsapp', apiBase: this.fake.apiBase, ...WA };
  }
  webhook(chat: string, n: number, text: string): { body: string; headers: Record<string, string> } {
    const { body } = this.fake.notification({ from: chat, text, id: `wamid.bench.${n}` });
    return { body, headers: { 'x-hub-signature-256': signWhatsApp(WA.appSecret, body) } };
  }
}

const TG = { token: '123456789:AABenchTelegramTokenNotReal_abcdefghij', webhookSecret: 'bench-tg-secret' };

/** Direct messages (chat id = user id), so every one is answered. */
class TelegramBench extends FakeBench {
  protected readonly fake = new FakeTelegram(TG.token, this.options);
  channel(): Record<string, string> {
    return { platform: 'telegram', apiBase: this.fake.url, ...TG };
  }
  webhook(chat: string, n: number, text: string): { body: string; headers: Record<string, string> } {
    const id = Number(chat);
    const body = JSON.stringify(this.fake.update({ chatId: id, userId: id, text, updateId: n }));
    return { body, headers: { 'x-telegram-bot-api-secret-token': TG.webhookSecret } };
  }
}

const SL = { botToken: 'xoxb-bench-0000-NotARealSlackToken', signingSecret: 'bench-slack-signing-secret' };

/** Direct messages (`channel_type: im`), signed with the v0 HMAC as Slack does. */
class SlackBench extends FakeBench {
  protected readonly fake = new FakeSlack(SL.botToken, this.options);
  channel(): Record<string, string> {
    return { platform: 'slack', apiBase: this.fake.apiBase, ...SL };
  }
  override chatId(i: number): string {
    return `D${String(i).padStart(8, '0')}`;
  }
  webhook(chat: string, n: number, text: string): { body: string; headers: Record<string, string> } {
    const body = JSON.stringify(this.fake.event({ channel: chat, user: `U${chat.slice(1)}`, text, im: true, eventId: `EvBench${n}` }));
    return { body, headers: FakeSlack.sign(body, SL.signingSecret) };
  }
}

export function benchPlatform(name: BenchPlatformName, front: 'uws' | 'node' = 'uws'): BenchPlatform {
  const options: FakeOptions = { record: false, front };
  switch (name) {
    case 'whatsapp':
      return new WhatsAppBench(options);
    case 'telegram':
      return new TelegramBench(options);
    case 'slack':
      return new SlackBench(options);
  }
}
