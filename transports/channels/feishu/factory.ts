import type { AdapterFactory } from '../registry.js';
import { FeishuAdapter } from './adapter.js';

export const feishuFactory: AdapterFactory = {
  credentials: ['appId', 'appSecret', 'verificationToken'],
  optionalCredentials: ['encryptKey'],
  create: ({ credentials: c, apiBase }) => new FeishuAdapter({
    appId: c.appId ?? '', appSecret: c.appSecret ?? '', verificationToken: c.verificationToken ?? '', encryptKey: c.encryptKey, apiBase,
  }),
};
