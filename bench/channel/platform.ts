/**
 * What `troupe bench channel` needs from one platform: its fake (the API the
 * gateway replies to, run in the bench process, which timestamps every reply),
 * signed webhooks, and the channel entry for the gateway's config, whichever
 * harness serves the API (`benchChannel`, `benchSecrets`: the Go harness
 * plays the platform with the same credentials).
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
  /** The fake's root, `http://127.0.0.1:<port>`, once started. */
  readonly apiRoot: string;
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
  get apiRoot(): string {
    return this.fake.url;
  }
  chatId(i: number): string {
    return String(15_550_100_000 + i);
  }
  abstract webhook(chat: string, n: number, text: string): { body: string; headers: Record<string, string> };
}

const WA = { accessToken: 'bench-wa-token', appSecret: 'bench-wa-secret', verifyToken: 'bench-verify', phoneNumberId: '1065550000' };

class WhatsAppBench extends FakeBench {
  protected readonly fake = new WhatsAppFake(WA, this.options);
  webhook(chat: string, n: number, text: string): { body: string; headers: Record<string, string> } {
    const { body } = this.fake.notification({ from: chat, text, id: `wamid.bench.${n}` });
    return { body, headers: { 'x-hub-signature-256': signWhatsApp(WA.appSecret, body) } };
  }
}

const TG = { token: '123456789:AABenchTelegramTokenNotReal_abcdefghij', webhookSecret: 'bench-tg-secret' };

/** Direct messages (chat id = user id), so every one is answered. */
class TelegramBench extends FakeBench {
  protected readonly fake = new FakeTelegram(TG.token, this.options);
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
  override chatId(i: number): string {
    return `D${String(i).padStart(8, '0')}`;
  }
  webhook(chat: string, n: number, text: string): { body: string; headers: Record<string, string> } {
    const body = JSON.stringify(this.fake.event({ channel: chat, user: `U${chat.slice(1)}`, text, im: true, eventId: `EvBench${n}` }));
    return { body, headers: FakeSlack.sign(body, SL.signingSecret) };
  }
}

/** The channel entry (platform, apiBase, credentials) for the gateway's config, its platform API served at `root`. */
export function benchChannel(name: BenchPlatformName, root: string): Record<string, string> {
  switch (name) {
    case 'whatsapp':
      return { platform: 'whatsapp', apiBase: root, ...WA };
    case 'telegram':
      return { platform: 'telegram', apiBase: root, ...TG };
    case 'slack':
      return { platform: 'slack', apiBase: `${root}/api/`, ...SL };
  }
}

/** What another harness needs to play the platform: the token its API must see, the webhook secret, WhatsApp's number. */
export function benchSecrets(name: BenchPlatformName): { token: string; secret: string; phone?: string } {
  switch (name) {
    case 'whatsapp':
      return { token: WA.accessToken, secret: WA.appSecret, phone: WA.phoneNumberId };
    case 'telegram':
      return { token: TG.token, secret: TG.webhookSecret };
    case 'slack':
      return { token: SL.botToken, secret: SL.signingSecret };
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
