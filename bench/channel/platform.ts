/**
 * What `troupe bench channel` needs from one platform: its fake (the API the
 * gateway replies to, run in the bench process, which timestamps every reply),
 * the channel entry for the gateway's config, and signed webhooks.
 */
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
  /** A signed webhook for one user message in `chat`; `n` makes its event id unique. */
  webhook(chat: string, n: number, text: string): { body: string; headers: Record<string, string> };
}

const WA = { accessToken: 'bench-wa-token', appSecret: 'bench-wa-secret', verifyToken: 'bench-verify', phoneNumberId: '1065550000' };

class WhatsAppBench implements BenchPlatform {
  private readonly fake = new WhatsAppFake(WA, { record: false });
  async start(onReply: ReplyListener): Promise<void> {
    this.fake.onPost = (m, kind) => onReply(m.chatId, m.text, kind);
    await this.fake.start();
  }
  stop(): Promise<void> {
    return this.fake.stop();
  }
  channel(): Record<string, string> {
    return { platform: 'whatsapp', apiBase: this.fake.apiBase, ...WA };
  }
  webhook(chat: string, n: number, text: string): { body: string; headers: Record<string, string> } {
    const { body } = this.fake.notification({ from: chat, text, id: `wamid.bench.${n}` });
    return { body, headers: { 'x-hub-signature-256': signWhatsApp(WA.appSecret, body) } };
  }
}

export function benchPlatform(name: BenchPlatformName): BenchPlatform {
  switch (name) {
    case 'whatsapp':
      return new WhatsAppBench();
    default:
      throw new Error(`platform ${name} is not wired yet`);
  }
}
