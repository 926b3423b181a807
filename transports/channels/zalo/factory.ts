import type { AdapterFactory } from '../registry.js';

export const zaloFactory: AdapterFactory = {
  credentials: ['accessToken', 'oaSecretKey', 'appId'],
  create: async ({ credentials: c, apiBase }) => new (await import('./adapter.js')).ZaloAdapter({ accessToken: c.accessToken ?? '', oaSecretKey: c.oaSecretKey ?? '', appId: c.appId ?? '', apiBase }),
};
