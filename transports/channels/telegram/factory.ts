import type { AdapterFactory } from '../registry.js';
import { TelegramAdapter } from './adapter.js';

export const telegramFactory: AdapterFactory = {
  credentials: ['token'],
  optionalCredentials: ['webhookSecret'],
  check: (spec) => (spec.mode !== 'polling' && spec.credentials.webhookSecret === undefined
    ? 'a Telegram webhook needs "webhookSecret" (or set "mode": "polling")'
    : undefined),
  create: (spec) => new TelegramAdapter(spec),
};
