/**
 * One channel's outbound queue: every send, edit and typing call to the
 * platform goes through it, so the platform's limits hold for the whole bot.
 *
 *   run(chat A, send) ─► lane A ─┐   per-chat spacing (1 / perChatPerSecond),
 *   run(chat A, edit) ─► lane A  ├─► bot-wide spacing (1 / perBotPerSecond) ─► call
 *   run(chat B, send) ─► lane B ─┘   order kept within a lane
 *   hint(chat A, typing) ─► now, only if lane A is idle and the bot has room
 *
 * A call failing with a retryable ChannelSendError is retried: a 429 after
 * its retry_after, a 5xx or no answer after a bounded exponential backoff.
 * After `maxAttempts`, or past the queue bounds, the call fails with a
 * `ChannelDeliveryError` and `onGiveUp` runs (the channel audits and counts
 * it): nothing is dropped silently.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ChannelSendError } from './adapter.js';

export interface OutboundOptions {
  perChatPerSecond: number;
  perBotPerSecond: number;
  /** Tries per call, the first included. Default 6 (about 8 s of backoff for 5xx). */
  maxAttempts?: number;
  /** Backoff cap for 5xx (ms). Default 5000. */
  maxBackoffMs?: number;
  /** A retry_after above this is not waited for (ms). Default 60000. */
  maxRetryAfterMs?: number;
  /** Calls queued or in flight, all chats. Default 10000. */
  maxQueued?: number;
  /** Calls queued per chat. Default 200. */
  maxPerChat?: number;
  onRetry?(op: string, reason: 'rate_limited' | 'server_error' | 'no_answer', waitMs: number): void;
  onGiveUp?(op: string, chat: string, err: ChannelDeliveryError): void;
  /** Aborted when the channel stops: waiting calls fail at once. */
  signal?: AbortSignal;
}

/** A call the queue gave up on; `reason` feeds the drop counter. */
export class ChannelDeliveryError extends Error {
  constructor(readonly reason: 'queue_full' | 'send_failed' | 'rejected' | 'stopped', message: string, readonly status = 0) {
    super(message);
    this.name = 'ChannelDeliveryError';
  }
}

interface Lane {
  tail: Promise<unknown>;
  pending: number;
}

const MAX_REMEMBERED_CHATS = 10_000;

export class OutboundQueue {
  readonly #lanes = new Map<string, Lane>();
  /** When each recent chat last had a call start (bounded, oldest forgotten first). */
  readonly #lastAt = new Map<string, number>();
  #botNextAt = 0;
  #queued = 0;

  constructor(private readonly opts: OutboundOptions) {}

  get queued(): number {
    return this.#queued;
  }

  /**
   * A best-effort call that posts no message (typing…): made at once, outside
   * the lanes, only when `chat` has nothing queued or in flight and the bot is
   * within its limit; skipped otherwise (a reply already on its way, or a bot
   * at its limit, would only be slowed by it). It takes no slot, so the chat's
   * next message is not held back by it. Neither retried nor reported; resolves
   * whether it was made.
   */
  hint(chat: string, call: () => Promise<unknown>): Promise<boolean> {
    // The bot is at its limit when calls already wait for its slots (more than the one gap after the last start).
    const botBacklogged = this.#botNextAt - Date.now() > 1000 / this.opts.perBotPerSecond;
    if (this.#lanes.has(chat) || botBacklogged || this.opts.signal?.aborted === true) return Promise.resolve(false);
    return call().then(() => true, () => false);
  }

  /** Runs `call` in `chat`'s lane under the limits, retried as the class comment says. */
  run<T>(chat: string, op: string, call: () => Promise<T>): Promise<T> {
    const o = this.opts;
    let lane = this.#lanes.get(chat);
    if (this.#queued >= (o.maxQueued ?? 10_000) || (lane?.pending ?? 0) >= (o.maxPerChat ?? 200)) {
      return Promise.reject(this.#giveUp(op, chat, new ChannelDeliveryError('queue_full', `outbound queue full (${op})`)));
    }
    if (lane === undefined) {
      lane = { tail: Promise.resolve(), pending: 0 };
      this.#lanes.set(chat, lane);
    }
    const l = lane;
    l.pending++;
    this.#queued++;
    const result = l.tail.then(() => this.#attempt(chat, op, call)).catch((err: unknown) => {
      if (err instanceof ChannelDeliveryError && err.reason === 'stopped') this.#giveUp(op, chat, err);
      throw err;
    });
    l.tail = result.catch(() => undefined).finally(() => {
      this.#queued--;
      if (--l.pending === 0 && this.#lanes.get(chat) === l) this.#lanes.delete(chat);
    });
    return result;
  }

  async #attempt<T>(chat: string, op: string, call: () => Promise<T>): Promise<T> {
    const o = this.opts;
    const max = o.maxAttempts ?? 6;
    for (let attempt = 1; ; attempt++) {
      await this.#wait(this.#slot(chat));
      try {
        return await call();
      } catch (err) {
        const e = err instanceof ChannelSendError ? err : new ChannelSendError(String((err as Error)?.message ?? err), 0);
        if (!e.retryable || attempt >= max) {
          const reason = e.retryable ? 'send_failed' : 'rejected';
          throw this.#giveUp(op, chat, new ChannelDeliveryError(reason, `${op} failed after ${attempt} attempt(s): ${e.message}`, e.status));
        }
        let waitMs: number;
        if (e.status === 429) {
          waitMs = e.retryAfterMs ?? 1000;
          if (waitMs > (o.maxRetryAfterMs ?? 60_000)) {
            throw this.#giveUp(op, chat, new ChannelDeliveryError('send_failed', `${op} rate limited for ${waitMs} ms`, 429));
          }
        } else waitMs = Math.min(o.maxBackoffMs ?? 5000, 250 * 2 ** (attempt - 1));
        o.onRetry?.(op, e.status === 429 ? 'rate_limited' : e.status === 0 ? 'no_answer' : 'server_error', waitMs);
        await this.#wait(waitMs);
      }
    }
  }

  /** Reserves the next start time allowed for `chat` and for the bot; returns how long to wait. */
  #slot(chat: string): number {
    const now = Date.now();
    const chatGap = 1000 / this.opts.perChatPerSecond;
    const botGap = 1000 / this.opts.perBotPerSecond;
    const last = this.#lastAt.get(chat);
    const at = Math.max(now, last === undefined ? now : last + chatGap, this.#botNextAt);
    this.#botNextAt = at + botGap;
    this.#lastAt.delete(chat);
    this.#lastAt.set(chat, at);
    if (this.#lastAt.size > MAX_REMEMBERED_CHATS) this.#lastAt.delete(this.#lastAt.keys().next().value as string);
    return at - now;
  }

  async #wait(ms: number): Promise<void> {
    if (this.opts.signal?.aborted === true) throw new ChannelDeliveryError('stopped', 'channel stopped');
    if (ms <= 0) return;
    try {
      await sleep(ms, undefined, { signal: this.opts.signal });
    } catch {
      throw new ChannelDeliveryError('stopped', 'channel stopped');
    }
  }

  #giveUp(op: string, chat: string, err: ChannelDeliveryError): ChannelDeliveryError {
    this.opts.onGiveUp?.(op, chat, err);
    return err;
  }
}
