/**
 * Hub: the cross-thread side of one system. It keeps a Link to every other
 * host and turns RemoteHub calls into frames, and incoming frames into local
 * deliveries.
 *
 * Frames are written flat into a link's outbox (no array per frame):
 *
 *     outbox: [ acks,  TELL, id, msg, senderHost, senderId,  ASK, id, msg, wireId,  ... ]
 *
 * A message sent with an envelope context (envelope.ts) uses TELL_CTX or
 * ASK_CTX, the same frame with the context in one more slot; without one the
 * frames stay as drawn. The whole outbox is packed and posted once per event-loop turn (or
 * earlier when it grows past 32k slots), as long as the peer has acknowledged
 * enough earlier batches (flow control: link.ts). One link per host pair,
 * FIFO ports, one outbox per link: order per sender→receiver pair is kept.
 *
 * A tell that arrives for a full `reject` mailbox goes back to the sending host
 * as a REJECTED frame, which tells its sender (`Rejected`) and is counted there.
 */
import type { PendingAsk } from './asks.js';
import { isTerminated, type ModuleProps, type SpawnOptions, type Terminated } from './behavior.js';
import { decodeBatch, encodable } from './codec.js';
import { Carried, bareMessage } from './envelope.js';
import { LinkFullError, MailboxFullError, UnavailableError, errorFromWire, errorToWire } from './errors.js';
import { Link, linkLimits, type LinkLimits, type PortLike } from './link.js';
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
const REJECTED = 11; // targetId, msg, senderHost, senderId, error: a tell of ours the target's full mailbox refused

const FRAME_SLOTS = [5, 4, 3, 3, 4, 2, 4, 4, 2, 6, 5, 6];

/** Slots kept for a peer that is down (tells wait for its replacement); beyond that they drop. */
const MAX_BUFFERED_SLOTS = 1_000_000;

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
  /** Flow control of every link (link.ts). */
  link?: Partial<LinkLimits>;
}

export class Hub implements RemoteHub {
  private readonly links = new Map<number, Link>();
  private readonly limits: LinkLimits;
  /** Watches this host holds on actors elsewhere, re-sent when their host comes back. */
  private readonly remoteWatches = new Map<number, Map<string, [ActorRef, ActorRef]>>();

  constructor(
    readonly system: ActorSystem,
    private readonly options: HubOptions = {},
  ) {
    system.remote = this;
    this.limits = linkLimits(options.link);
  }

  private link(host: number): Link {
    let l = this.links.get(host);
    if (l === undefined) {
      l = new Link(host, this.limits, (frames) => this.dropUnencodable(frames));
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

  /**
   * The peer died: asks to it fail with UNAVAILABLE; tells not yet sent wait (bounded) for its
   * replacement; messages sent that it had not confirmed are counted `unconfirmed` (it acknowledges
   * lazily, so it may have handled some of them before it died).
   */
  hostDown(host: number, died = true): void {
    const l = this.link(host);
    l.port = null;
    const unconfirmed = l.reset();
    // A worker stopped by shutdown handled its mailboxes first: what it had not confirmed is not lost.
    if (died) this.system.metrics.unconfirmed += unconfirmed;
    this.system.asks.failHost(host, () => new UnavailableError('worker_died', `host ${host} went away; retry`));
  }

  /** The peer's replacement is running: re-register watches on it. */
  hostUp(host: number): void {
    const watches = this.remoteWatches.get(host);
    if (watches === undefined) return;
    for (const [target, watcher] of watches.values()) this.send(host, WATCH, target.id, watcher.host, watcher.id);
  }

  send(host: number, kind: number, a: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown): void {
    this.append(this.link(host), kind, a, b, c, d, e);
  }

  private append(l: Link, kind: number, a: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown): void {
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
    l.push(kind === TELL || kind === ASK || kind === TELL_CTX || kind === ASK_CTX);
  }

  /** User messages sent to other hosts and not yet acknowledged by them, over every link. */
  get queueDepth(): number {
    let n = 0;
    for (const l of this.links.values()) n += l.depth;
    return n;
  }

  /** The link to `host` refuses more user messages: count it and say when to retry. */
  private refuse(l: Link): LinkFullError {
    this.system.metrics.linkRejected++;
    return new LinkFullError(l.host, this.limits.maxQueued);
  }

  isUp(host: number): boolean {
    return this.links.get(host)?.up === true;
  }

  // ---------------------------------------------------------------- RemoteHub

  /** Throws LinkFullError (OVERLOADED) when the link is full; a Terminated notice is never refused. */
  tell(target: ActorRef, msg: unknown, sender: ActorRef | undefined): void {
    const l = this.link(target.host);
    if (l.full && !isTerminated(bareMessage(msg))) throw this.refuse(l);
    const sh = sender === undefined ? -1 : sender.host;
    const sid = sender === undefined ? 0 : sender.id;
    if (msg instanceof Carried) this.append(l, TELL_CTX, target.id, msg.msg, sh, sid, msg.context);
    else this.append(l, TELL, target.id, msg, sh, sid);
  }

  ask(target: ActorRef, msg: unknown, ask: PendingAsk): void {
    const l = this.link(target.host);
    if (!l.up) {
      ask.reject(new UnavailableError('worker_unavailable', `host ${target.host} is not available; retry`));
      return;
    }
    if (l.full) {
      ask.reject(this.refuse(l));
      return;
    }
    if (msg instanceof Carried) this.append(l, ASK_CTX, target.id, msg.msg, ask.wireId, msg.context);
    else this.append(l, ASK, target.id, msg, ask.wireId);
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
    const l = this.link(from);
    const acks = f[0] as number;
    if (acks > 0) l.acknowledged(acks);
    if (f.length === 1) return;
    l.received(this.route(from, f));
  }

  /** Returns credit owed on quiet links (the pool and the workers call it on their heartbeat timers). */
  settle(): void {
    for (const l of this.links.values()) l.settle();
  }

  /** Delivers a batch's frames; returns how many were user messages (tells and asks). */
  private route(from: number, f: unknown[]): number {
    const sys = this.system;
    let messages = 0;
    let i = 1;
    while (i < f.length) {
      const kind = f[i] as number;
      if (kind === TELL || kind === ASK || kind === TELL_CTX || kind === ASK_CTX) messages++;
      try {
        switch (kind) {
          case TELL: {
            const sh = f[i + 3] as number;
            const msg = f[i + 2];
            const sender = sh < 0 ? undefined : sys.refFor(sh, f[i + 4] as number);
            if (isTerminated(msg)) this.forgetWatch(msg);
            this.tellLocal(from, f[i + 1] as number, msg, msg, sender);
            break;
          }
          case TELL_CTX: {
            const sh = f[i + 3] as number;
            const msg = f[i + 2];
            const sender = sh < 0 ? undefined : sys.refFor(sh, f[i + 4] as number);
            if (isTerminated(msg)) this.forgetWatch(msg);
            this.tellLocal(from, f[i + 1] as number, new Carried(msg, f[i + 5]), msg, sender);
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
          case REJECTED: {
            const sh = f[i + 3] as number;
            sys.rejected(
              sys.refFor(from, f[i + 1] as number), f[i + 2], sh < 0 ? undefined : sys.refFor(sh, f[i + 4] as number),
              errorFromWire(f[i + 5] as Parameters<typeof errorFromWire>[0]),
            );
            break;
          }
          default:
            sys.metrics.dropped++;
            return messages;
        }
      } catch {
        // A frame that fails to route is counted where it failed (a drop or a dead letter).
      }
      i += FRAME_SLOTS[kind];
    }
    return messages;
  }

  /** A tell from `from` to a local actor; a full `reject` mailbox sends it back to its sender's host. */
  private tellLocal(from: number, id: number, msg: unknown, bare: unknown, sender: ActorRef | undefined): void {
    try {
      this.system.deliverToId(id, msg, sender, undefined);
    } catch (err) {
      if (!(err instanceof MailboxFullError)) throw err;
      this.send(from, REJECTED, id, bare, sender === undefined ? -1 : sender.host, sender === undefined ? 0 : sender.id, errorToWire(err));
    }
  }

  private forgetWatch(msg: Terminated): void {
    const m = this.remoteWatches.get(msg.ref.host);
    if (m === undefined) return;
    for (const key of m.keys()) if (key.startsWith(`${msg.ref.id}:`)) m.delete(key);
  }

  /** A batch failed to encode: keep the frames that can, fail the rest loudly. */
  dropUnencodable(frames: unknown[]): unknown[] {
    const kept: unknown[] = [frames[0]];
    let i = 1;
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
    for (const l of this.links.values()) l.flushNow();
  }
}
