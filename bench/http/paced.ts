/**
 * An open-loop HTTP client whose arrivals are evenly spaced: request i is due
 * at t0 + i·(1000 / rate) ms, whatever the server does.
 *
 *   schedule     x---x---x---x---x---x---x---x      one arrival per interval, never early
 *                │   │   │
 *   backlog      └───┴───┴─► waits only while every connection is busy (counted `late`)
 *                            │
 *   connections  c0 c1 … cN-1 ◄┘  undici Clients, keep-alive, one request each at a time
 *
 * Latency runs from the *scheduled* time, not from the send, so a server that
 * stalls pays for the arrivals that queued behind it (no coordinated
 * omission). autocannon's `overallRate` gives each connection a quota per
 * second, which it fires back to back when the second starts: that measures
 * burst draining, not a steady rate (bench/RESULTS.md, "Proxy through the real
 * OpenAI adapter").
 */
import { Client, type Dispatcher } from 'undici';
import { newHistogram, recordUs, type Histogram } from '../common/histogram.js';

export interface PacedRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** What became of one scheduled arrival (times are performance.now() ms). */
export interface PacedOutcome {
  index: number;
  scheduledAt: number;
  /** When it went out; equal to endAt when it expired in the backlog unsent. */
  sentAt: number;
  /** It waited in the backlog because every connection was busy at its scheduled time. */
  late: boolean;
  /** 0 when no answer came. */
  status: number;
  body: string;
  /** When the first chunk that `isFirst` accepted arrived; 0 if none. */
  firstAt: number;
  endAt: number;
  error?: 'timeout' | 'connection';
}

export interface PacedOptions {
  rate: number;
  /** Arrivals in this run. */
  count: number;
  timeoutMs: number;
  request: PacedRequest;
  /** Marks the chunk that counts as the first token (streams). */
  isFirst?: (chunk: Buffer) => boolean;
  onOutcome: (o: PacedOutcome) => void;
}

export interface PacedSummary {
  t0: number;
  endAt: number;
  sent: number;
  late: number;
  /** The deepest the backlog got. */
  maxBacklog: number;
  /** Expired in the backlog (older than the timeout), never sent. */
  expired: number;
  /** Send time minus scheduled time, µs: the client's own timer slack plus the backlog's wait. */
  sendLag: Histogram;
}

interface Conn {
  client: Client;
  busy: boolean;
}

/** One undici Client per connection, kept across runs (warm-up, then the measured window). */
export class PacedConnections {
  readonly conns: Conn[];

  constructor(origin: string, count: number) {
    this.conns = Array.from({ length: count }, () => ({ client: new Client(origin, { pipelining: 1 }), busy: false }));
  }

  async close(): Promise<void> {
    await Promise.all(this.conns.map((c) => c.client.destroy()));
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Sends `count` arrivals at `rate`/s and resolves once every one has an outcome. */
export function runPaced(pool: PacedConnections, o: PacedOptions): Promise<PacedSummary> {
  const intervalMs = 1000 / o.rate;
  const backlog: { index: number; at: number }[] = [];
  let head = 0;
  let next = 0;
  let outcomes = 0;
  let timer: NodeJS.Timeout | undefined;
  const t0 = performance.now();
  const s: PacedSummary = { t0, endAt: t0, sent: 0, late: 0, maxBacklog: 0, expired: 0, sendLag: newHistogram() };
  const dispatchOpts = {
    ...o.request, headersTimeout: o.timeoutMs, bodyTimeout: o.timeoutMs,
  } satisfies Dispatcher.DispatchOptions;

  return new Promise((resolve) => {
    const report = (out: PacedOutcome) => {
      o.onOutcome(out);
      if (++outcomes === o.count) {
        s.endAt = performance.now();
        resolve(s);
      }
    };
    const send = (conn: Conn, index: number, at: number, late: boolean) => {
      conn.busy = true;
      const sentAt = performance.now();
      s.sent++;
      recordUs(s.sendLag, (sentAt - at) * 1000);
      const chunks: Buffer[] = [];
      let status = 0;
      let firstAt = 0;
      const done = (error?: PacedOutcome['error']) => {
        conn.busy = false;
        report({ index, scheduledAt: at, sentAt, late, status, body: Buffer.concat(chunks).toString('utf8'), firstAt, endAt: performance.now(), ...(error === undefined ? {} : { error }) });
        pump();
      };
      conn.client.dispatch(dispatchOpts, {
        onConnect: () => undefined,
        onHeaders: (code: number) => {
          status = code;
          return true;
        },
        onData: (chunk: Buffer) => {
          if (firstAt === 0 && o.isFirst?.(chunk) === true) firstAt = performance.now();
          chunks.push(chunk);
          return true;
        },
        onComplete: () => done(),
        onError: (err: Error) => done(TIMEOUT_CODES.has((err as { code?: string }).code ?? '') ? 'timeout' : 'connection'),
      });
    };
    const free = (): Conn | undefined => pool.conns.find((c) => !c.busy);
    /** Hands backlogged arrivals to free connections, oldest first; drops the expired. */
    const pump = () => {
      while (head < backlog.length) {
        const b = backlog[head];
        const now = performance.now();
        if (now - b.at > o.timeoutMs) {
          head++;
          s.expired++;
          report({ index: b.index, scheduledAt: b.at, sentAt: now, late: true, status: 0, body: '', firstAt: 0, endAt: now, error: 'timeout' });
          continue;
        }
        const conn = free();
        if (conn === undefined) return;
        head++;
        send(conn, b.index, b.at, true);
      }
      if (head > 1024 && head === backlog.length) {
        backlog.length = 0;
        head = 0;
      }
    };
    const tick = () => {
      timer = undefined;
      const now = performance.now();
      // every arrival that is due now; more than one only when the timer fired late
      while (next < o.count && t0 + next * intervalMs <= now) {
        const at = t0 + next * intervalMs;
        const conn = head === backlog.length ? free() : undefined;
        if (conn !== undefined) send(conn, next, at, false);
        else {
          s.late++;
          backlog.push({ index: next, at });
          s.maxBacklog = Math.max(s.maxBacklog, backlog.length - head);
        }
        next++;
      }
      pump();
      if (next < o.count) timer = setTimeout(tick, Math.max(0, t0 + next * intervalMs - performance.now()));
      else if (head < backlog.length) timer = setTimeout(expireLater, o.timeoutMs);
    };
    // once scheduling is over, a backlog behind connections that never free still ends
    const expireLater = () => {
      timer = undefined;
      pump();
      if (head < backlog.length) timer = setTimeout(expireLater, o.timeoutMs);
    };
    if (o.count <= 0) {
      resolve(s);
      return;
    }
    tick();
  }).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  }) as Promise<PacedSummary>;
}
