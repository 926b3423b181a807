/**
 * Starts a real front door on 127.0.0.1:0 and talks to it with the real `ws`
 * client. Every wait is bounded in time so a regression fails instead of hanging.
 */
import { Registry } from 'prom-client';
import { pack, unpack } from 'msgpackr';
import type tap from 'tap';
import WebSocket from 'ws';
import type { Authenticator, ScopedLimiter } from '../../security/types.js';
import type { FrontDoorConfig } from '../../transports/config.js';
import type { FrontDoorLogger } from '../../transports/context.js';
import { createFrontDoor, type FrontDoor, type FrontDoorOptions } from '../../transports/server.js';
import { FakeBackend, fakeAuthenticator, unlimited } from './fakes.js';

export const silentLogger: FrontDoorLogger = { warn: () => {}, error: () => {} };

export interface Started {
  fd: FrontDoor;
  port: number;
  backend: FakeBackend;
  registry: Registry;
  wsUrl: string;
  httpUrl: string;
}

/** The type of `t` inside a tap subtest. */
export type TapTest = Parameters<Parameters<typeof tap.test>[0]>[0];

interface Teardown {
  teardown(fn: () => unknown): void;
}

export async function start(
  t: Teardown,
  opts: {
    config?: Partial<FrontDoorConfig>; connect?: ScopedLimiter; chat?: ScopedLimiter;
    authenticator?: Authenticator; onRefused?: FrontDoorOptions['onRefused']; usage?: FrontDoorOptions['usage'];
  } = {},
): Promise<Started> {
  const backend = new FakeBackend();
  const registry = new Registry();
  const fd = createFrontDoor({
    backend,
    authenticator: opts.authenticator ?? fakeAuthenticator(),
    ...(opts.onRefused === undefined ? {} : { onRefused: opts.onRefused }),
    ...(opts.usage === undefined ? {} : { usage: opts.usage }),
    limiters: { connect: opts.connect ?? unlimited(), chat: opts.chat ?? unlimited() },
    metrics: registry,
    config: { shutdownDeadlineMs: 300, ...opts.config },
    logger: silentLogger,
  });
  const { port } = await fd.listen();
  t.teardown(() => fd.shutdown());
  return { fd, port, backend, registry, wsUrl: `ws://127.0.0.1:${port}/ws`, httpUrl: `http://127.0.0.1:${port}` };
}

export type Frame = Record<string, unknown> & { type: string };

export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    p.then((v) => { clearTimeout(timer); resolve(v); }, (e: unknown) => { clearTimeout(timer); reject(e); });
  });
}

/** A `ws` client that records frames and answers request() by id. */
export class Client {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  private nextId = 1;

  private constructor(readonly ws: WebSocket, readonly binary: boolean) {
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const frame = (isBinary ? unpack(data) : JSON.parse(data.toString())) as Frame;
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
    ws.on('error', () => {});
  }

  static open(url: string, opts: { protocol?: string; headers?: Record<string, string> } = {}): Promise<Client> {
    const ws = new WebSocket(url, opts.protocol === undefined ? [] : [opts.protocol], { headers: opts.headers });
    return within(new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new Client(ws, opts.protocol === 'troupe.msgpack')));
      ws.once('error', reject);
    }), 5000, 'ws open');
  }

  /** Opens and completes `connect` with a token. */
  static async connected(url: string, token = 'tok-alice'): Promise<Client> {
    const c = await Client.open(url);
    const res = await c.request('connect', { token });
    if (res.ok !== true) throw new Error(`connect failed: ${JSON.stringify(res)}`);
    return c;
  }

  waitFor(pred: (f: Frame) => boolean, what = 'frame', ms = 5000): Promise<Frame> {
    const seen = this.frames.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return within(new Promise((resolve) => this.waiters.push({ pred, resolve })), ms, what);
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  send(frame: unknown): void {
    if (this.binary) this.ws.send(pack(frame), { binary: true });
    else this.ws.send(JSON.stringify(frame));
  }

  /** Sends a request and resolves with its `res` frame. */
  request(method: string, params: unknown = {}): Promise<Frame> {
    const id = `r${this.nextId++}`;
    this.send({ type: 'req', id, method, params });
    return this.waitFor((f) => f.type === 'res' && f.id === id, `res to ${method}`);
  }

  /** Resolves with the next `res` that has id null (unparseable frames). */
  nextAnonymousError(after = this.frames.length): Promise<Frame> {
    return this.waitFor((f) => f.type === 'res' && f.id === null && this.frames.indexOf(f) >= after, 'anonymous error');
  }

  close(): void {
    this.ws.close();
  }
}

export function errorOf(res: Frame): Record<string, unknown> {
  return (res.error ?? {}) as Record<string, unknown>;
}
