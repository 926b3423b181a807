import type { AdapterFactory } from '../registry.js';

export const whatsappFactory: AdapterFactory = {
  credentials: ['accessToken', 'appSecret', 'verifyToken', 'phoneNumberId'],
  create: async ({ credentials: c, apiBase }) => new (await import('./adapter.js')).WhatsAppAdapter({
    accessToken: c.accessToken ?? '', appSecret: c.appSecret ?? '', verifyToken: c.verifyToken ?? '', phoneNumberId: c.phoneNumberId ?? '', apiBase,
  }),
};
