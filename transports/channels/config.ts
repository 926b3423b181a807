/**
 * One configured channel, as the framework sees it once the gateway has
 * checked the config file and resolved `secret:NAME` credentials.
 */
import type { ChannelPlatform } from './adapter.js';

export type AccessMode = 'pairing' | 'allowlist' | 'open';

export interface ChannelSpec {
  /** Unique; the webhook path is `/channels/<id>` and session keys start with it. */
  id: string;
  platform: ChannelPlatform;
  /** Every message of this channel runs under this tenant. */
  tenant: string;
  /** The agent that answers; absent: the gateway's default agent. */
  agent?: string;
  /** Overrides the platform's API root (tests, proxies). */
  apiBase?: string;
  /** Telegram: `webhook` (default) or `polling`. */
  mode?: 'webhook' | 'polling';
  access: { mode: AccessMode; users: string[] };
  /** In groups: answer only when mentioned or replied to (default), or every message. */
  groups: { respond: 'mention' | 'all' };
  /** Overrides of the platform's outbound limits (per chat and per bot, messages per second). */
  rate?: { perChatPerSecond?: number; perBotPerSecond?: number };
  /** The platform's credentials by field name (token, signingSecret, …), plaintext. */
  credentials: Readonly<Record<string, string>>;
}
