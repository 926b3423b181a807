import type { AdapterFactory } from '../registry.js';

export const discordFactory: AdapterFactory = {
  credentials: ['token'],
  create: async (spec) => new (await import('./adapter.js')).DiscordAdapter({ token: spec.credentials.token ?? '', apiBase: spec.apiBase }),
};
