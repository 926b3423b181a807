import type { AdapterFactory } from '../registry.js';

export const slackFactory: AdapterFactory = {
  credentials: ['botToken', 'signingSecret'],
  create: async (spec) => new (await import('./adapter.js')).SlackAdapter(spec),
};
