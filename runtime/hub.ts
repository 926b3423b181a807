/**
 * Hub: the cross-thread side of one system. It keeps a Link to every other
 * host and turns RemoteHub calls into frames, and incoming frames into local
 * deliveries.
 *
 * Frames are written flat into a link's outbox (no array per frame):
 *
 *     outbox: [ TELL, id, msg, senderHost, senderId,  ASK, id, msg, wireId,  ... ]
 *
 * A message sent with an envelope context (envelope.ts) uses TELL_CTX or
 * ASK_CTX, the same frame with the context in one more slot; without one the
 * frames stay as drawn.
 *
 * and the whole outbox is packed and posted once per event-loop turn (or
 * earlier when it grows past FLUSH_SLOTS). One link per host pair, FIFO
 * ports, one outbox per link: order per sender→receiver pair is kept.
 */
import type { PendingAsk } from './asks.js';
import { isTerminated, type ModuleProps, type SpawnOptions, type Terminated } from './behavior.js';
import { decodeBatch, encodable, encodeBatch } from './codec.js';
import { Carried } from './envelope.js';
import { UnavailableError, errorFromWire, errorToWire } from './errors.js';
import type { ReplyTo } from './mailbox.js';
import type { ActorRef } from './ref.js';
import { MAX_HOSTS, type ActorSystem, type RemoteHub } from './system.js';

const TELL = 0; // id, msg, senderHost, senderId
const ASK = 1; // id, msg, wireId
const REPLY = 2; // wireId, value
const FAIL = 3; // wireId, error
const SPAWN = 4; // id, props, options
const STOP = 5; // id
const WATCH = 6; // targetId, watcherHost, watcherId
const UNWATCH = 7; // targetId, watcherHost, watcherId
const STOPPED = 8; // id: an actor this host spawned over there stopped for good
const TELL_CTX = 9; // as TELL, then the envelope context (envelope.ts)
const ASK_CTX = 10; // as ASK, then the envelope context

const FRAME_SLOTS = [5, 4, 3, 3, 4, 2, 4, 4, 2, 6, 5];

/** Flush early once an outbox holds this many slots (bounds batch size and latency). */
const FLUSH_SLOTS = 32_768;
/** Slots kept for a peer that is down (tells wait for its replacement); beyond that they drop. */
const MAX_BUFFERED_SLOTS = 1_000_000;

export interface PortLike {
  postMessage(value: unknown, transfer?: readonly ArrayBuffer[]): void;
}

class Link {
  outbox: unknown[] = [];
  port: PortLike | null = null;
  private flushScheduled = false;

  constructor(
    readonly host: number,
    private readonly hub: Hub,
  ) {}

  get up(): boolean {
    return this.port !== null;
  }

  push(): void {
    if (this.outbox.length >= FLUSH_SLOTS && this.port !== null) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  readonly flush = (): void => {
    this.flushScheduled = false;
    const port = this.port;
    if (port === null || this.outbox.length === 0) return;
    const frames = this.outbox;
    this.outbox = [];
    let bytes: Uint8Array;
    try {
      bytes = encodeBatch(frames);
    } catch {
      bytes = encodeBatch(this.hub.dropUnencodable(frames));
    }
    port.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
  };
}

/** Replies to an ask that came from another host. */
class RemoteReply implements ReplyTo {
  private done = false;

  constructor(
    private readonly hub: Hub,
    private readonly host: number,
    private readonly wireId: number,
  ) {}

  resolve(value: unknown): void {
    if (this.done) return;
    this.done = true;
    this.hub.send(this.host, REPLY, this.wireId, value);
  }

  reject(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.hub.send(this.host, FAIL, this.wireId, errorToWire(error));
  }
}

export interface HubOptions {
  /** Picks a host for a placement (main thread only). */
  place?: RemoteHub['place'];
  /** This host placed an actor on another host (the pool records it, to restart it there). */
  onSpawn?: (target: ActorRef, props: ModuleProps, options: SpawnOptions) => void;
  /** An actor that this host placed on another host stopped for good. */
  onRemoteStopped?: (host: number, id: number) => void;
}

export class Hub implements RemoteHub {
  private readonly links = new Map<number, Link>();
  /** Watches this host holds on actors elsewhere, re-sent when their host comes back. */
  private readonly remoteWatches = new Map<number, Map<string, [ActorRef, ActorRef]>>();

  constructor(
    readonly system: ActorSystem,
    private readonly options: HubOptions = {},
  ) {
    system.remote = this;
  }

  private link(host: number): Link {
    let l = this.links.get(host);
    if (l === undefined) {
      l = new Link(host, this);
      this.links.set(host, l);
    }
    return l;
  }

  /** Attaches (or re-attaches) the port to `host` and flushes what waited for it. */
  connect(host: number, port: PortLike): void {
    const l = this.link(host);
    l.port = port;
    l.flush();
  }

  /** The peer died: asks to it fail with UNAVAILABLE; tells wait (bounded) for its replacement. */
  hostDown(host: number): void {
    const l = this.link(host);
    l.port = null;
    this.system.asks.failHost(host, () => new UnavailableError('worker_died', `host ${host} went away; retry`));
  }

  /** The peer's replacement is running: re-register watches on it. */
  hostUp(host: number): void {
    const watches = this.remoteWatches.get(host);
    if (watches === undefined) return;
    for (const [target, watcher] of watches.values()) this.send(host, WATCH, target.id, watcher.host, watcher.id);
  }

  send(host: number, kind: number, a: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown): void {
    const l = this.link(host);
    if (!l.up && l.outbox.length >= MAX_BUFFERED_SLOTS) {
      this.system.metrics.dropped++;
      return;
    }
    const o = l.outbox;
    switch (FRAME_SLOTS[kind]) {
      case 2: o.push(kind, a); break;
      case 3: o.push(kind, a, b); break;
      case 4: o.push(kind, a, b, c); break;
      case 5: o.push(kind, a, b, c, d); break;
      default: o.push(kind, a, b, c, d, e);
    }
    l.push();
  }

  isUp(host: number): boolean {
    return this.links.get(host)?.up === true;
  }

  // ---------------------------------------------------------------- RemoteHub

  tell(target: ActorRef, msg: unknown, sender: ActorRef | undefined): void {
    const sh = sender === undefined ? -1 : sender.host;
    const sid = sender === undefined ? 0 : sender.id;
    if (msg instanceof Carried) this.send(target.host, TELL_CTX, target.id, msg.msg, sh, sid, msg.context);
    else this.send(target.host, TELL, target.id, msg, sh, sid);
  }

  ask(target: ActorRef, msg: unknown, ask: PendingAsk): void {
    if (!this.isUp(target.host)) {
      ask.reject(new UnavailableError('worker_unavailable', `host ${target.host} is not available; retry`));
      return;
    }
    if (msg instanceof Carried) this.send(target.host, ASK_CTX, target.id, msg.msg, ask.wireId, msg.context);
    else this.send(target.host, ASK, target.id, msg, ask.wireId);
  }

  spawn(target: ActorRef, props: ModuleProps, options: SpawnOptions): void {
    this.options.onSpawn?.(target, props, options);
    this.send(target.host, SPAWN, target.id, props, { ...options, placement: undefined });
  }

  stop(target: ActorRef): void {
    this.send(target.host, STOP, target.id);
  }

  watch(target: ActorRef, watcher: ActorRef): void {
    let m = this.remoteWatches.get(target.host);
    if (m === undefined) this.remoteWatches.set(target.host, (m = new Map()));
    m.set(`${target.id}:${watcher.host}:${watcher.id}`, [target, watcher]);
    this.send(target.host, WATCH, target.id, watcher.host, watcher.id);
  }

  unwatch(target: ActorRef, watcher: ActorRef): void {
    this.remoteWatches.get(target.host)?.delete(`${target.id}:${watcher.host}:${watcher.id}`);
    this.send(target.host, UNWATCH, target.id, watcher.host, watcher.id);
  }

  place(placement: SpawnOptions['placement']): number | undefined {
    return this.options.place?.(placement);
  }

  actorStopped(ref: ActorRef): void {
    const spawner = ref.id % MAX_HOSTS;
    if (spawner !== this.system.host) this.send(spawner, STOPPED, ref.id);
  }

  // ---------------------------------------------------------------- incoming

  /** Handles one batch from `from`. Never throws: a bad frame is counted and skipped. */
  receive(from: number, bytes: Uint8Array): void {
    const sys = this.system;
    let f: unknown[];
    try {
      f = decodeBatch(bytes, sys);
    } catch {
      sys.metrics.dropped++;
      return;
    }
    let i = 0;
    while (i < f.length) {
      const kind = f[i] as number;
      try {
        switch (kind) {
          case TELL: {
            const sh = f[i + 3] as number;
            const msg = f[i + 2];
            const sender = sh < 0 ? undefined : sys.refFor(sh, f[i + 4] as number);
            if (isTerminated(msg)) this.forgetWatch(msg);
            sys.deliverToId(f[i + 1] as number, msg, sender, undefined);
            break;
          }
          case TELL_CTX: {
            const sh = f[i + 3] as number;
            const msg = f[i + 2];
            const sender = sh < 0 ? undefined : sys.refFor(sh, f[i + 4] as number);
            if (isTerminated(msg)) this.forgetWatch(msg);
            sys.deliverToId(f[i + 1] as number, new Carried(msg, f[i + 5]), sender, undefined);
            break;
          }
          case ASK:
            sys.deliverToId(f[i + 1] as number, f[i + 2], undefined, new RemoteReply(this, from, f[i + 3] as number));
            break;
          case ASK_CTX:
            sys.deliverToId(f[i + 1] as number, new Carried(f[i + 2], f[i + 4]), undefined, new RemoteReply(this, from, f[i + 3] as number));
            break;
          case REPLY:
            sys.asks.byWireId(f[i + 1] as number)?.resolve(f[i + 2]);
            break;
          case FAIL:
            sys.asks.byWireId(f[i + 1] as number)?.reject(errorFromWire(f[i + 2] as Parameters<typeof errorFromWire>[0]));
            break;
          case SPAWN:
            sys.spawnLocal(f[i + 2] as ModuleProps, (f[i + 3] ?? {}) as SpawnOptions, null, f[i + 1] as number);
            break;
          case STOP:
            void sys.stop(sys.refFor(sys.host, f[i + 1] as number));
            break;
          case WATCH:
            sys.watch(sys.refFor(sys.host, f[i + 1] as number), sys.refFor(f[i + 2] as number, f[i + 3] as number));
            break;
          case UNWATCH:
            sys.unwatch(sys.refFor(sys.host, f[i + 1] as number), sys.refFor(f[i + 2] as number, f[i + 3] as number));
            break;
          case STOPPED:
            this.options.onRemoteStopped?.(from, f[i + 1] as number);
            break;
          default:
            sys.metrics.dropped++;
            return;
        }
      } catch {
        // A full `reject` mailbox on a remote tell is already counted as a drop.
      }
      i += FRAME_SLOTS[kind];
    }
  }

  private forgetWatch(msg: Terminated): void {
    const m = this.remoteWatches.get(msg.ref.host);
    if (m === undefined) return;
    for (const key of m.keys()) if (key.startsWith(`${msg.ref.id}:`)) m.delete(key);
  }

  /** A batch failed to encode: keep the frames that can, fail the rest loudly. */
  dropUnencodable(frames: unknown[]): unknown[] {
    const kept: unknown[] = [];
    let i = 0;
    while (i < frames.length) {
      const kind = frames[i] as number;
      const n = FRAME_SLOTS[kind];
      const frame = frames.slice(i, i + n);
      if (encodable(frame)) {
        kept.push(...frame);
      } else {
        this.system.metrics.dropped++;
        if (kind === ASK || kind === ASK_CTX) {
          this.system.asks.byWireId(frame[3] as number)?.reject(
            new UnavailableError('not_serializable', 'the message cannot be sent to another thread (msgpack could not encode it)'),
          );
        }
      }
      i += n;
    }
    return kept;
  }

  /** Flushes every outbox now (shutdown). */
  flushAll(): void {
    for (const l of this.links.values()) l.flush();
  }
}
