import type { AdapterFactory } from '../registry.js';
import { WhatsAppAdapter } from './adapter.js';

export const whatsappFactory: AdapterFactory = {
  credentials: ['accessToken', 'appSecret', 'verifyToken', 'phoneNumberId'],
  create: ({ credentials: c, apiBase }) => new WhatsAppAdapter({
    accessToken: c.accessToken ?? '', appSecret: c.appSecret ?? '', verifyToken: c.verifyToken ?? '', phoneNumberId: c.phoneNumberId ?? '', apiBase,
  }),
};
