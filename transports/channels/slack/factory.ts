import type { AdapterFactory } from '../registry.js';
import { SlackAdapter } from './adapter.js';

export const slackFactory: AdapterFactory = {
  credentials: ['botToken', 'signingSecret'],
  create: (spec) => new SlackAdapter(spec),
};
