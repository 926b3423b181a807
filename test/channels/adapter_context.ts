import type { Test } from 'tap';
// A bare AdapterContext and WebhookRequest for testing one adapter against
// its fake without the gateway: what the adapter delivers is collected.
import { WebhookRejected, type AdapterContext, type InboundMessage, type WebhookRequest } from '../../transports/channels/adapter.js';

export interface TestContext extends AdapterContext {
  delivered: InboundMessage[];
  logs: string[];
  /** Resolves once `n` messages in total have been delivered. */
  waitDelivered(n: number, timeoutMs?: number): Promise<InboundMessage[]>;
  abort(): void;
}

export function testContext(): TestContext {
  const controller = new AbortController();
  const delivered: InboundMessage[] = [];
  const logs: string[] = [];
  let waiters: Array<{ n: number; resolve: () => void }> = [];
  return {
    delivered,
    logs,
    signal: controller.signal,
    abort: () => controller.abort(),
    deliver(messages) {
      delivered.push(...messages);
      const ready = waiters.filter((w) => delivered.length >= w.n);
      waiters = waiters.filter((w) => delivered.length < w.n);
      for (const w of ready) w.resolve();
    },
    log(level, msg) {
      logs.push(`${level} ${msg}`);
    },
    waitDelivered(n, timeoutMs = 10_000) {
      if (delivered.length >= n) return Promise.resolve(delivered);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${delivered.length} of ${n} messages delivered`)), timeoutMs);
        waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(delivered); } });
      });
    },
  };
}

export function webhookRequest(
  rawBody: string | Buffer,
  headers: Record<string, string> = {},
  opts: { method?: 'GET' | 'POST'; query?: string } = {},
): WebhookRequest {
  return {
    method: opts.method ?? 'POST',
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    query: new URLSearchParams(opts.query ?? ''),
    rawBody: Buffer.isBuffer(rawBody) ? rawBody : Buffer.from(rawBody),
    now: Date.now(),
  };
}

/** Asserts that handling a webhook throws WebhookRejected with this status. */
export async function assertRejected(
  t: Test,
  handle: () => unknown,
  status: number,
  msg = 'webhook',
): Promise<void> {
  try {
    await handle();
    t.fail(`${msg}: expected a ${status} rejection, it was accepted`);
  } catch (err) {
    t.equal(err instanceof WebhookRejected ? err.status : String(err), status, msg);
  }
}
