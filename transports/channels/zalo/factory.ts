import type { AdapterFactory } from '../registry.js';
import { ZaloAdapter } from './adapter.js';

export const zaloFactory: AdapterFactory = {
  credentials: ['accessToken', 'oaSecretKey', 'appId'],
  create: ({ credentials: c, apiBase }) => new ZaloAdapter({ accessToken: c.accessToken ?? '', oaSecretKey: c.oaSecretKey ?? '', appId: c.appId ?? '', apiBase }),
};
