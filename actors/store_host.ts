/**
 * The store worker's actor. It owns the database (the PGlite instance or the
 * `pg` pools) on a worker thread of its own (a reserved pool host), so no SQL,
 * WASM or row decoding runs on the main thread, which keeps only sockets and
 * routing. Everything that reads or writes the database asks this actor:
 *
 *   session actors (workers) ──load / append──────┐
 *   tool hosts (memory tools) ──memory-*──────────┤
 *   main: auth (api-key), audit, usage, pairings, ├──► store host ──► Persistence ──► Store
 *         team board (repo), named calls ─────────┘    (one owner)    write-behind     PGlite | pg
 *
 * Faults: the pool replaces a crashed store worker and re-creates this actor
 * under the same ref, which opens the database again; callers with an ask in
 * flight get a retryable UNAVAILABLE meanwhile. A hard crash loses what was
 * not yet written: the write-behind queues (at most their bounds) and the
 * mail still waiting in this actor's mailbox. `flush` (SIGTERM) and a normal
 * stop lose nothing.
 *
 * Backpressure: when the message queue is past its high-water mark, an append
 * waits for the queue to drain before the next message is taken, so mail
 * waits in the bounded mailbox, and past that the sender's tell is refused by
 * the mailbox's overflow policy: memory stays bounded while the database is slow.
 */
import { rootLog } from '../observability/log.js';
import type { ActorContext, Behavior } from '../runtime/index.js';
import type { ApiKeyMatch, Store, TenantScope } from '../store/index.js';
import type { Embedder, VectorSearch } from '../store/memory/embedder.js';
import { HashEmbedder } from '../store/memory/hash_embedder.js';
import { openStoreWith, type StoreSettings } from '../store/settings.js';
import { Persistence, persistenceActor, type PersistRequest } from './persistence.js';

/** The repositories a `repo` request may reach (the team board and channel pairings, from the main thread). */
export const REMOTE_REPOS = ['teamRuns', 'teamTasks', 'channelPairings'] as const;
export type RemoteRepo = typeof REMOTE_REPOS[number];

/** What the gateway reports about memory (describeMemory), as plain data. */
export interface StoreReady {
  ready: true;
  kind: StoreSettings['kind'];
  memory: { embedder: { id: string; offline: boolean }; vectorSearch: VectorSearch };
}

export function embedderInfo(e: Embedder): { id: string; offline: boolean } {
  return { id: e.id, offline: e instanceof HashEmbedder };
}

export type StoreRequest =
  | PersistRequest
  /** Resolves once the database is open and migrated. */
  | { t: 'ready' }
  /** Authentication: the live API key with this SHA-256 hash, or null. */
  | { t: 'api-key'; hash: string }
  /** Authentication: whether the tenant's API key with this id is live (a sign-in token carries the id of its key). */
  | { t: 'api-key-live'; tenant: string; id: string }
  /** Writes everything queued so far (SIGTERM). */
  | { t: 'flush' }
  /**
   * One repository method in the tenant's scope, in a transaction of its own:
   * `scope[repo][method](...args)` (the team coordinator's board, channel pairings).
   */
  | { t: 'repo'; tenant: string; repo: RemoteRepo; method: string; args: unknown[] }
  /**
   * Runs `export(store, args)` from `module` (a file URL) here, on the owning
   * thread: admin work the gateway executes. Arguments and result must be
   * msgpack-serialisable.
   */
  | { t: 'call'; module: string; export: string; args?: unknown };

export interface StoreHostArgs {
  store: StoreSettings;
  /** Most history messages queued for writing (default 100,000). */
  maxQueued?: number;
}

export type StoreCall<A = unknown, R = unknown> = (store: Store, args: A) => Promise<R>;

export function storeHost(args: StoreHostArgs): Behavior<StoreRequest> {
  const maxQueued = args.maxQueued ?? 100_000;
  const highWater = Math.max(1, Math.floor(maxQueued * 0.8));
  const logger = rootLog().child({ component: 'store' });
  const log = (msg: string, err: unknown) => logger.error(msg, { error: String(err) });
  let store: Store | undefined;
  let persistence: Persistence | undefined;
  let inner: Behavior<PersistRequest> | undefined;

  const opened = (): { store: Store; persistence: Persistence; inner: Behavior<PersistRequest> } => {
    if (store === undefined || persistence === undefined || inner === undefined) throw new Error('the store is not open');
    return { store, persistence, inner };
  };

  return {
    async preStart() {
      // Mail waits until the database is open (the actor is busy until preStart settles).
      store = await openStoreWith(args.store);
      // Run the first lookups' code once (WASM and JS start in their baseline tiers), so the
      // first session load and API-key login after /ready are not the slow ones.
      await store.tenants.get('_warmup');
      await store.findApiKeyByHash('0'.repeat(64));
      persistence = new Persistence(store, log, { maxQueued });
      inner = persistenceActor({ persistence });
    },
    receive(msg, ctx: ActorContext<StoreRequest>) {
      const s = opened();
      switch (msg.t) {
        case 'ready':
          return { ready: true, kind: args.store.kind, memory: { embedder: embedderInfo(s.store.embedder), vectorSearch: s.store.vectorSearch } } satisfies StoreReady;
        case 'api-key':
          return s.store.findApiKeyByHash(msg.hash) satisfies Promise<ApiKeyMatch | null>;
        case 'api-key-live':
          return s.store.withTenant(msg.tenant, (scope) => scope.apiKeys.isLive(msg.id)) satisfies Promise<boolean>;
        case 'flush':
          return s.persistence.flush().then(() => ({ flushed: true }));
        case 'repo': {
          if (!(REMOTE_REPOS as readonly string[]).includes(msg.repo)) throw new Error(`no remote repository ${String(msg.repo)}`);
          const reply = ctx.deferReply();
          s.store.withTenant(msg.tenant, (scope: TenantScope) => {
            const repo = scope[msg.repo] as unknown as Record<string, unknown>;
            const fn = repo[msg.method];
            if (typeof fn !== 'function' || msg.method.startsWith('_')) throw new Error(`${msg.repo} has no method ${msg.method}`);
            return (fn as (...a: unknown[]) => Promise<unknown>).apply(repo, msg.args);
          }).then((v) => reply?.resolve(v), (err: unknown) => reply?.reject(err));
          return undefined;
        }
        case 'call': {
          const reply = ctx.deferReply();
          import(msg.module)
            .then((m: Record<string, unknown>) => {
              const fn = m[msg.export];
              if (typeof fn !== 'function') throw new Error(`${msg.module} has no function ${msg.export}`);
              return (fn as StoreCall)(s.store, msg.args);
            })
            .then((v) => reply?.resolve(v), (err: unknown) => reply?.reject(err));
          return undefined;
        }
        case 'append':
          if (s.persistence.backlog >= highWater) {
            // Backpressure: take no more mail until the backlog has been written.
            return s.persistence.flush().catch((err: unknown) => log('history write failed', err))
              .then(() => s.inner.receive(msg, ctx as unknown as ActorContext<PersistRequest>));
          }
          return s.inner.receive(msg, ctx as unknown as ActorContext<PersistRequest>);
        default:
          return s.inner.receive(msg, ctx as unknown as ActorContext<PersistRequest>);
      }
    },
    async postStop() {
      // A normal stop (shutdown) writes everything, then closes the database.
      await persistence?.close().catch((err: unknown) => log('flushing on stop failed', err));
      await store?.close();
    },
  };
}
