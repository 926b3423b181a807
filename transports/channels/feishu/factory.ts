import type { AdapterFactory } from '../registry.js';

export const feishuFactory: AdapterFactory = {
  credentials: ['appId', 'appSecret', 'verificationToken'],
  optionalCredentials: ['encryptKey'],
  create: async ({ credentials: c, apiBase }) => new (await import('./adapter.js')).FeishuAdapter({
    appId: c.appId ?? '', appSecret: c.appSecret ?? '', verificationToken: c.verificationToken ?? '', encryptKey: c.encryptKey, apiBase,
  }),
};
