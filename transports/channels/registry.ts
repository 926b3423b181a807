/**
 * The adapters by platform. Adding a platform is one entry here: its
 * credential fields (the config check names any that are missing) and a
 * factory building its adapter from a checked, secret-resolved spec.
 *
 * A factory imports its adapter (and the platform's SDK) only when a channel
 * of that platform starts: the config check and every process without that
 * channel load none of them (the Feishu SDK alone is ~55 MB of RSS).
 */
import type { ChannelAdapter, ChannelPlatform } from './adapter.js';
import type { ChannelSpec } from './config.js';
import { discordFactory } from './discord/factory.js';
import { feishuFactory } from './feishu/factory.js';
import { slackFactory } from './slack/factory.js';
import { telegramFactory } from './telegram/factory.js';
import { whatsappFactory } from './whatsapp/factory.js';
import { zaloFactory } from './zalo/factory.js';

export interface AdapterFactory {
  /** Credential fields the platform always needs. */
  readonly credentials: readonly string[];
  /** Credential fields it may use. */
  readonly optionalCredentials?: readonly string[];
  /** A further check of the spec (mode, combinations); a message naming the problem, or undefined. */
  check?(spec: ChannelSpec): string | undefined;
  create(spec: ChannelSpec): Promise<ChannelAdapter>;
}

export const ADAPTERS: Readonly<Partial<Record<ChannelPlatform, AdapterFactory>>> = {
  telegram: telegramFactory,
  slack: slackFactory,
  discord: discordFactory,
  whatsapp: whatsappFactory,
  zalo: zaloFactory,
  feishu: feishuFactory,
};

export function adapterFactory(platform: string): AdapterFactory | undefined {
  return Object.hasOwn(ADAPTERS, platform) ? ADAPTERS[platform as ChannelPlatform] : undefined;
}
