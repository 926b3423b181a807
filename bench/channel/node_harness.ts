/**
 * The in-process harness (`--harness node`, the default): the platform's fake
 * (test/fakes, on uWebSockets.js or node:http) and an undici webhook client,
 * both on this process's one thread. The fake timestamps each reply, and each
 * chat has its replies in order, so the k-th completed reply in a chat answers
 * the k-th webhook sent to it:
 *
 *   chat c:  sent[c] = [t0, t1, …]   replies complete ──► latency = now - sent[c][done[c]++]
 *   lost       = webhooks accepted but never answered by the end of the drain
 *   busy       = webhooks answered "still answering" (the chat's queue was full): taken off the
 *                newest still waiting (the counts are exact; the latencies after a refusal are
 *                approximate, as the refused one may be older than webhooks still on their way)
 *   duplicated = new messages (posts) beyond one per webhook
 *
 * Closed loop (rate 0): `conns` chats, each with one message in flight.
 * Open loop: `rate` webhooks per second over `conns` chats.
 */
import { Pool } from 'undici';
import { requestWhole } from '../../transports/channels/whole_answer.js';
import { newHistogram, recordUs, summarize } from '../common/histogram.js';
import { cpuMeter, type ChannelLeg, type Harness, type LegOptions } from './leg.js';
import { benchPlatform } from './platform.js';

interface ChatState {
  sent: number[];
  measured: boolean[];
  done: number;
  posts: number;
}

/** The channel's answer to a message beyond its per-chat queue (transports/channels/channel.ts), whatever the platform's rendering. */
const STILL_ANSWERING = /still answering your earlier messages/;

/** One run's chats and counts; a harness runs legs one after another. */
function newLeg() {
  return {
    chats: new Map<string, ChatState>(),
    hist: newHistogram(),
    measuring: false,
    completed: 0,
    inWindow: 0,
    windowEnd: Number.POSITIVE_INFINITY,
    duplicated: 0,
    busy: 0,
    waiting: undefined as (() => void) | undefined,
    wakers: new Map<string, () => void>(),
  };
}

export async function startNodeHarness(o: LegOptions, fake: 'uws' | 'node'): Promise<Harness> {
  const platform = benchPlatform(o.platform, fake);
  let leg = newLeg();
  // Event ids stay unique across legs: the gateway deduplicates by them.
  let n = 0;

  await platform.start((chat, text, kind) => {
    const c = leg.chats.get(chat);
    if (c === undefined) return;
    if (kind === 'post' && ++c.posts > c.sent.length) leg.duplicated++;
    if (kind === 'post' && STILL_ANSWERING.test(text) && c.done < c.sent.length) {
      // Refused, not lost: it will get no other answer. Taken for the newest still waiting (see above).
      c.sent.pop();
      if (c.measured.pop() === true) leg.busy++;
      c.posts--;
    } else if (text.trim() !== o.expected || c.done >= c.sent.length) {
      // A streamed reply completes when its text is whole; until then it is a partial edit.
      return;
    } else {
      recordReply(c);
    }
    leg.wakers.get(chat)?.();
    if (leg.waiting !== undefined && [...leg.chats.values()].every((s) => s.done >= s.sent.length)) leg.waiting();
  });

  function recordReply(c: ChatState): void {
    const i = c.done++;
    if (c.measured[i] === true) {
      const now = performance.now();
      recordUs(leg.hist, (now - (c.sent[i] ?? 0)) * 1000);
      leg.completed++;
      if (now <= leg.windowEnd) leg.inWindow++;
    }
  }

  const run = async (gateway: { pid: number; webhookUrl: string }): Promise<ChannelLeg> => {
    const target = new URL(gateway.webhookUrl);
    // undici's pool, each answer read whole by its dispatch handler (no body stream): the load client must cost the shared CPU as little as it can.
    const pool = new Pool(target.origin, { connections: Math.min(o.conns, 256) });
    leg = newLeg();
    leg.measuring = o.warmupMs === 0;
    const { chats } = leg;
    let rejected = 0;
    let sentMeasured = 0;

    const send = async (chat: string): Promise<boolean> => {
      const c = chats.get(chat) ?? { sent: [], measured: [], done: 0, posts: 0 };
      chats.set(chat, c);
      const { body, headers } = platform.webhook(chat, ++n, o.text);
      c.sent.push(performance.now());
      c.measured.push(leg.measuring);
      if (leg.measuring) sentMeasured++;
      const res = await requestWhole(pool, {
        origin: target.origin, path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, timeoutMs: 60_000,
      }, 64 * 1024).catch(() => undefined);
      if (res?.status === 200) return true;
      // Not accepted: forget it, so it is neither waited for nor counted lost.
      c.sent.pop();
      if (c.measured.pop() === true) sentMeasured--;
      rejected++;
      return false;
    };

    const chatIds = Array.from({ length: o.conns }, (_, i) => platform.chatId(i));
    let channelCpu = cpuMeter(gateway.pid);
    const stopAt = performance.now() + o.warmupMs + o.durationMs;
    leg.windowEnd = stopAt;
    const measureTimer = setTimeout(() => {
      leg.measuring = true;
      channelCpu = cpuMeter(gateway.pid);
    }, o.warmupMs);
    let measureStart = performance.now() + o.warmupMs;
    try {
      if (o.rate > 0) {
        const gap = 1000 / o.rate;
        let next = performance.now();
        let i = 0;
        const inflight = new Set<Promise<boolean>>();
        while (performance.now() < stopAt) {
          const p = send(chatIds[i++ % chatIds.length] ?? '0');
          inflight.add(p);
          void p.finally(() => inflight.delete(p));
          next += gap;
          const wait = next - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        await Promise.all(inflight);
      } else {
        await Promise.all(chatIds.map(async (chat) => {
          while (performance.now() < stopAt) {
            const replied = new Promise<void>((resolve) => leg.wakers.set(chat, resolve));
            if (!(await send(chat))) continue;
            let timer: NodeJS.Timeout | undefined;
            const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, o.drainMs); });
            await Promise.race([replied, timeout]);
            clearTimeout(timer);
          }
        }));
      }
      measureStart = Math.min(measureStart, stopAt);
      const measuredMs = stopAt - measureStart;
      // Drain: wait for the replies still on their way, bounded.
      if (![...chats.values()].every((s) => s.done >= s.sent.length)) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          leg.waiting = resolve;
          timer = setTimeout(resolve, o.drainMs);
        });
        clearTimeout(timer);
      }
      // The replies to the messages sent in the window are in (or lost): what they cost ends here.
      const cpu = channelCpu()(leg.completed);
      await new Promise((r) => setTimeout(r, 200)); // late duplicates
      const lost = [...chats.values()].reduce((sum, c) => sum + (c.sent.length - c.done), 0);
      return {
        channel: {
          sent: sentMeasured, rejected, completed: leg.completed, busy: leg.busy, lost, duplicated: leg.duplicated,
          messagesPerSec: Math.round((leg.inWindow / Math.max(1, measuredMs)) * 1000 * 10) / 10,
          latency: summarize(leg.hist),
        },
        cpu,
      };
    } finally {
      clearTimeout(measureTimer);
      await pool.close();
    }
  };

  return { apiRoot: platform.apiRoot, run, stop: () => platform.stop() };
}
