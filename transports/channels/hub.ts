/**
 * Every configured channel of one gateway: started together (a channel whose
 * credentials are rejected is unhealthy, the others run on), looked up by id
 * for webhooks, reported in /health, stopped at shutdown.
 */
import type { Channel } from './channel.js';
import type { ChannelMetrics } from './metrics.js';

export class ChannelHub {
  readonly #byId: ReadonlyMap<string, Channel>;

  constructor(channels: readonly Channel[], readonly metrics: ChannelMetrics, readonly maxBodyBytes = 1024 * 1024) {
    this.#byId = new Map(channels.map((c) => [c.spec.id, c]));
  }

  get(id: string): Channel | undefined {
    return this.#byId.get(id);
  }

  get size(): number {
    return this.#byId.size;
  }

  async start(): Promise<void> {
    await Promise.all([...this.#byId.values()].map((c) => c.start()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#byId.values()].map((c) => c.stop()));
  }

  health(): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = {};
    for (const [id, c] of this.#byId) out[id] = c.health();
    return out;
  }
}
