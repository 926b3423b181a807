// A test actor for worker threads: asked for a reply, it streams one through
// this worker's provider registry, as an agent on that worker would.

import { callWithFailover, type ProviderChain } from '../../actors/provider/chain.js';
import { providerRegistry } from '../../actors/provider/host.js';
import type { Behavior } from '../../runtime/index.js';

export function caller(): Behavior<{ chain: ProviderChain; prompt: string }> {
  return {
    async receive(msg) {
      let text = '';
      const result = await callWithFailover(providerRegistry(), msg.chain, { messages: [{ role: 'user', content: msg.prompt }] }, (ev) => {
        if (ev.type === 'text') text += ev.delta;
      });
      return { text, providerId: result.providerId };
    },
  };
}
