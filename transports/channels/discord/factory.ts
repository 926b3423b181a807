import type { AdapterFactory } from '../registry.js';
import { DiscordAdapter } from './adapter.js';

export const discordFactory: AdapterFactory = {
  credentials: ['token'],
  create: (spec) => new DiscordAdapter({ token: spec.credentials.token ?? '', apiBase: spec.apiBase }),
};
