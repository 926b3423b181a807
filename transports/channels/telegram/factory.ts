import type { AdapterFactory } from '../registry.js';

export const telegramFactory: AdapterFactory = {
  credentials: ['token'],
  optionalCredentials: ['webhookSecret'],
  check: (spec) => (spec.mode !== 'polling' && spec.credentials.webhookSecret === undefined
    ? 'a Telegram webhook needs "webhookSecret" (or set "mode": "polling")'
    : undefined),
  create: async (spec) => new (await import('./adapter.js')).TelegramAdapter(spec),
};
