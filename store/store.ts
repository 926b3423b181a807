import type { Db, Queryable } from './db.js';
import { StoreError } from './errors.js';
import { HashEmbedder } from './memory/hash_embedder.js';
import type { Embedder } from './memory/embedder.js';
import { migrate, type MigrateResult } from './migrate.js';
import { PgliteDb } from './pglite_db.js';
import { PostgresDb } from './postgres_db.js';
import { SqlAgentsRepo } from './repos/agents.js';
import { findApiKeyByHash, SqlApiKeysRepo, type ApiKeyMatch } from './repos/api_keys.js';
import { SqlAuditRepo, verifyAuditChain, type ChainVerdict } from './repos/audit.js';
import { SqlMemoryRepo } from './repos/memory.js';
import { SqlMessagesRepo } from './repos/messages.js';
import { SqlRunsRepo } from './repos/runs.js';
import { SqlSecretsRepo } from './repos/secrets.js';
import { SqlSessionsRepo } from './repos/sessions.js';
import { SqlTenantsRepo, type TenantsRepo } from './repos/tenants.js';
import { SqlToolCallsRepo } from './repos/tool_calls.js';
import { SqlUsersRepo } from './repos/users.js';
import { asAppRole, withTenant } from './tenant.js';

export interface StoreOptions {
  /** postgres://… runs on that server through pg; absent means embedded PGlite. */
  databaseUrl?: string;
  /** PGlite data folder; absent means in-memory (tests). Ignored with databaseUrl. */
  dataDir?: string;
  /** PostgreSQL only: schema to create and use (tests isolate themselves this way). */
  schema?: string;
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
  embedder?: Embedder;
  /** PostgreSQL pool size. */
  poolSize?: number;
}

/** Everything a unit of work for one tenant can touch. All of it is RLS-scoped. */
export class TenantScope {
  readonly users: SqlUsersRepo;
  readonly apiKeys: SqlApiKeysRepo;
  readonly agents: SqlAgentsRepo;
  readonly sessions: SqlSessionsRepo;
  readonly messages: SqlMessagesRepo;
  readonly runs: SqlRunsRepo;
  readonly toolCalls: SqlToolCallsRepo;
  readonly audit: SqlAuditRepo;
  readonly secrets: SqlSecretsRepo;
  readonly memory: SqlMemoryRepo;

  constructor(
    readonly tenantId: string,
    /** Raw SQL in the same transaction, as the app role, for this tenant only. */
    readonly q: Queryable,
    embedder: Embedder,
  ) {
    this.users = new SqlUsersRepo(q);
    this.apiKeys = new SqlApiKeysRepo(q);
    this.agents = new SqlAgentsRepo(q);
    this.sessions = new SqlSessionsRepo(q);
    this.messages = new SqlMessagesRepo(q);
    this.runs = new SqlRunsRepo(q);
    this.toolCalls = new SqlToolCallsRepo(q);
    this.audit = new SqlAuditRepo(q, tenantId);
    this.secrets = new SqlSecretsRepo(q);
    this.memory = new SqlMemoryRepo(q, embedder);
  }
}

/**
 * The system of record. `db` is the owner connection, used only for migrations and
 * admin work (tenants); everything else goes through withTenant as the app role.
 */
export class Store {
  readonly tenants: TenantsRepo;

  constructor(
    readonly db: Db,
    readonly embedder: Embedder = new HashEmbedder(),
  ) {
    this.tenants = new SqlTenantsRepo(db);
  }

  withTenant<T>(tenantId: string, fn: (scope: TenantScope) => Promise<T>): Promise<T> {
    return withTenant(this.db, tenantId, (q) => fn(new TenantScope(tenantId, q, this.embedder)));
  }

  /** Authentication: the live key with this SHA-256 hash, from any tenant, or null. */
  findApiKeyByHash(hash: string): Promise<ApiKeyMatch | null> {
    return asAppRole(this.db, (q) => findApiKeyByHash(q, hash));
  }

  /** Owner-side check of one tenant's audit chain (`troupe audit verify`). */
  verifyAuditChain(tenantId: string, opts?: { maxRows?: number }): Promise<ChainVerdict> {
    return this.db.transaction((q) => verifyAuditChain(q, tenantId, opts));
  }

  migrate(): Promise<MigrateResult> {
    return migrate(this.db);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

export async function openDb(opts: StoreOptions = {}): Promise<Db> {
  if (opts.databaseUrl !== undefined && opts.databaseUrl !== '') {
    if (!/^postgres(ql)?:\/\//.test(opts.databaseUrl)) {
      throw new StoreError('INVALID_REQUEST', 'databaseUrl must start with postgres:// or postgresql://');
    }
    return PostgresDb.open({ databaseUrl: opts.databaseUrl, schema: opts.schema, max: opts.poolSize });
  }
  return PgliteDb.open(opts.dataDir);
}

/** Opens PGlite or PostgreSQL, migrates (unless told not to) and returns the Store. */
export async function openStore(opts: StoreOptions = {}): Promise<Store> {
  const db = await openDb(opts);
  const store = new Store(db, opts.embedder);
  if (opts.migrate !== false) {
    try {
      await store.migrate();
    } catch (err) {
      await db.close();
      throw err;
    }
  }
  return store;
}
