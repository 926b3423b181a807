import type { Db, Queryable } from './db.js';
import { StoreError } from './errors.js';
import { HashEmbedder } from './memory/hash_embedder.js';
import { MessageWriter, type QueuedMessage } from './message_writer.js';
import type { WriteBehindOptions } from './write_behind.js';
import type { Embedder, VectorSearch } from './memory/embedder.js';
import { migrate, MIGRATION_LOCK_KEY, type MigrateResult } from './migrate.js';
import { PgliteDb } from './pglite_db.js';
import { PostgresDb } from './postgres_db.js';
import { SqlMcpServersRepo, SqlProvidersRepo, type McpServersRepo, type ProvidersRepo } from './repos/admin_config.js';
import { SqlAgentsRepo, type AgentsRepo } from './repos/agents.js';
import { findApiKeyByHash, SqlApiKeysRepo, type ApiKeyMatch, type ApiKeysRepo } from './repos/api_keys.js';
import { SqlChannelPairingsRepo, type ChannelPairingsRepo } from './repos/channel_pairings.js';
import { SqlAuditRepo, verifyAuditChain, type AuditRepo, type ChainVerdict } from './repos/audit.js';
import { SqlMemoryRepo, type MemoryHit, type MemoryIndex, type MemoryItem, type MemoryRepo, type MemorySaveInput, type MemorySearchOptions } from './repos/memory.js';
import { SqlMessagesRepo, type MessagesRepo } from './repos/messages.js';
import { SqlRunsRepo, type RunsRepo } from './repos/runs.js';
import { SqlSecretsRepo, type SecretsRepo } from './repos/secrets.js';
import { SqlSessionsRepo, type SessionsRepo } from './repos/sessions.js';
import { SqlTeamRunsRepo, type TeamRunsRepo } from './repos/team_runs.js';
import { SqlTeamTasksRepo, type TeamTasksRepo } from './repos/team_tasks.js';
import { SqlTenantsRepo, type TenantsRepo } from './repos/tenants.js';
import { SqlToolCallsRepo, type ToolCallsRepo } from './repos/tool_calls.js';
import { SqlUsersRepo, type UsersRepo } from './repos/users.js';
import { SqlUsageRepo, summarizeUsage, type UsageQuery, type UsageRepo, type UsageRow } from './repos/usage.js';
import { asAppRole, withTenant } from './tenant.js';

/** The least maintenance_work_mem an HNSW bulk build gets (256 MB: 100k graph nodes of 256 dims fit). */
const HNSW_BUILD_MEMORY_KB = 256 * 1024;

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
  /**
   * PostgreSQL only: a second URL whose LOGIN role is a member of troupe_app and owns
   * nothing. All tenant work then runs on that pool, so even a stray `RESET ROLE`
   * cannot reach the owner. Absent: tenant work uses SET LOCAL ROLE on the owner pool.
   */
  appDatabaseUrl?: string;
}

/** Everything a unit of work for one tenant can touch. All of it is RLS-scoped. */
export class TenantScope {
  readonly users: UsersRepo;
  readonly apiKeys: ApiKeysRepo;
  readonly agents: AgentsRepo;
  readonly sessions: SessionsRepo;
  readonly messages: MessagesRepo;
  readonly runs: RunsRepo;
  readonly toolCalls: ToolCallsRepo;
  readonly audit: AuditRepo;
  readonly secrets: SecretsRepo;
  readonly memory: MemoryRepo;
  readonly channelPairings: ChannelPairingsRepo;
  readonly teamRuns: TeamRunsRepo;
  readonly teamTasks: TeamTasksRepo;
  readonly usage: UsageRepo;
  readonly providers: ProvidersRepo;
  readonly mcpServers: McpServersRepo;

  constructor(
    readonly tenantId: string,
    /** Raw SQL in the same transaction, as the app role, for this tenant only. */
    readonly q: Queryable,
    memoryIndex: MemoryIndex,
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
    this.memory = new SqlMemoryRepo(q, memoryIndex);
    this.channelPairings = new SqlChannelPairingsRepo(q);
    this.teamRuns = new SqlTeamRunsRepo(q, this.audit);
    this.teamTasks = new SqlTeamTasksRepo(q, this.audit);
    this.usage = new SqlUsageRepo(q);
    this.providers = new SqlProvidersRepo(q, tenantId);
    this.mcpServers = new SqlMcpServersRepo(q, tenantId);
  }
}

/**
 * The system of record. `db` is the owner connection, used only for migrations and
 * admin work (tenants); everything else goes through withTenant as the app role.
 */
export class Store {
  readonly tenants: TenantsRepo;
  /** Where tenant work runs: `db` itself unless an app-role pool was configured. */
  readonly appDb: Db;
  /** The embedder and the vector search in use; `portable` until prepareVectors() says otherwise. */
  readonly memoryIndex: MemoryIndex;

  constructor(
    readonly db: Db,
    readonly embedder: Embedder = new HashEmbedder(),
    appDb?: Db,
  ) {
    this.tenants = new SqlTenantsRepo(db);
    this.appDb = appDb ?? db;
    this.memoryIndex = { embedder: this.embedder, search: 'portable' };
  }

  /** How memory search finds vectors: pgvector with HNSW, pgvector exact, or the portable scan. */
  get vectorSearch(): VectorSearch {
    return this.memoryIndex.search;
  }

  /**
   * Owner work at start: uses pgvector when the database has it (creating the
   * extension, the generated `vec` column and this embedder's HNSW index once),
   * the portable scan otherwise. Serialised with migrations by the same lock.
   */
  async prepareVectors(): Promise<VectorSearch> {
    const mode = (await this.vectorsPrepared()) ?? await this.db.transaction(async (q) => {
      await q.query('SET LOCAL statement_timeout = 0');
      // pgvector builds the HNSW graph in maintenance_work_mem and far more slowly once it
      // outgrows it (20k memories of 256 dims: 401 s at PGlite's 8 MB, 55 s at 128 MB). Raise
      // it for this transaction, never lower a server's own setting. Only a bulk build (new
      // embedder over existing memories) uses it; the memory is taken as the graph grows.
      await q.query(
        `SELECT set_config('maintenance_work_mem', greatest(setting::bigint, $1)::text || 'kB', true)
         FROM pg_settings WHERE name = 'maintenance_work_mem'`,
        [HNSW_BUILD_MEMORY_KB],
      );
      await q.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
      const res = await q.query<{ mode: string }>('SELECT troupe_memory_vectors($1, $2) AS mode', [this.embedder.id, this.embedder.dimension]);
      return res.rows[0].mode as VectorSearch;
    });
    this.memoryIndex.search = mode;
    return mode;
  }

  /**
   * The mode when an earlier start already made everything troupe_memory_vectors would
   * (extension, `vec` column, this embedder's index), read from the catalogs alone; else
   * undefined. Calling the function loads pgvector's library into the server, which in
   * PGlite cost every start ~0.6 s of CPU and ~15 MB of RSS before any memory was used.
   */
  private async vectorsPrepared(): Promise<VectorSearch | undefined> {
    const res = await this.db.query<{ ext: boolean; col: boolean; idx: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') AND to_regtype('vector') IS NOT NULL AS ext,
              EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'memory'::regclass AND attname = 'vec' AND NOT attisdropped) AS col,
              EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                      WHERE i.indrelid = 'memory'::regclass
                        AND c.relname = 'memory_hnsw_' || substr(md5($1 || ':' || $2::text), 1, 16)) AS idx`,
      [this.embedder.id, this.embedder.dimension],
    );
    const { ext, col, idx } = res.rows[0];
    if (!ext || !col) return undefined;
    if (this.embedder.dimension > 2000) return 'pgvector-exact';
    return idx ? 'pgvector-hnsw' : undefined;
  }

  withTenant<T>(tenantId: string, fn: (scope: TenantScope) => Promise<T>): Promise<T> {
    return withTenant(this.appDb, tenantId, (q) => fn(new TenantScope(tenantId, q, this.memoryIndex)));
  }

  /**
   * Saves a memory, embedding it before the unit of work opens: a remote
   * embedder may take a while and must not hold a transaction (PGlite has one).
   */
  async rememberFor(tenantId: string, input: Omit<MemorySaveInput, 'embedding'>): Promise<MemoryItem> {
    const [embedding] = await this.embedder.embed([input.content]);
    return this.withTenant(tenantId, (s) => s.memory.save({ ...input, embedding }));
  }

  /** Searches memory, embedding the query before the unit of work opens. */
  async recallFor(tenantId: string, query: string, opts: Omit<MemorySearchOptions, 'embedding'> = {}): Promise<MemoryHit[]> {
    const [embedding] = await this.embedder.embed([query]);
    return this.withTenant(tenantId, (s) => s.memory.search(query, { ...opts, embedding }));
  }

  /** Authentication: the live key with this SHA-256 hash, from any tenant, or null. */
  findApiKeyByHash(hash: string): Promise<ApiKeyMatch | null> {
    return asAppRole(this.appDb, (q) => findApiKeyByHash(q, hash));
  }

  /** Owner-side check of one tenant's audit chain (`troupe audit verify`). */
  verifyAuditChain(tenantId: string, opts?: { maxRows?: number }): Promise<ChainVerdict> {
    return this.db.transaction((q) => verifyAuditChain(q, tenantId, opts));
  }

  /** Every tenant's chain (including `_system`), for `troupe audit verify` with no tenant. */
  async verifyAllAuditChains(opts: { maxTenants?: number; maxRows?: number } = {}): Promise<Map<string, ChainVerdict>> {
    const tenants = await this.db.query<{ tenant_id: string }>(
      'SELECT DISTINCT tenant_id FROM audit_log ORDER BY tenant_id LIMIT $1',
      [opts.maxTenants ?? 100_000],
    );
    const out = new Map<string, ChainVerdict>();
    for (const { tenant_id: id } of tenants.rows) out.set(id, await this.verifyAuditChain(id, { maxRows: opts.maxRows }));
    return out;
  }

  /**
   * Usage of one tenant (under its RLS), or of every tenant when `tenant` is
   * undefined (owner connection: for platform callers and `troupe usage` only).
   */
  usageSummary(tenant: string | undefined, query: UsageQuery): Promise<UsageRow[]> {
    return tenant === undefined ? summarizeUsage(this.db, query) : this.withTenant(tenant, (s) => s.usage.summarize(query));
  }

  /** Tenants with a team run still running (owner-side: the team coordinator resumes them at start). */
  async teamTenants(limit = 10_000): Promise<string[]> {
    const res = await this.db.query<{ tenant_id: string }>(
      `SELECT DISTINCT tenant_id FROM team_runs WHERE status = 'running' ORDER BY tenant_id LIMIT $1`, [limit]);
    return res.rows.map((r) => r.tenant_id);
  }

  /** Session history through write-behind, on the same connections tenant work uses. */
  messageWriter(options?: Omit<WriteBehindOptions<QueuedMessage>, 'write'>): MessageWriter {
    return new MessageWriter(this.appDb, options);
  }

  migrate(): Promise<MigrateResult> {
    return migrate(this.db);
  }

  async close(): Promise<void> {
    if (this.appDb !== this.db) await this.appDb.close();
    await this.db.close();
  }
}

function checkUrl(url: string): string {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new StoreError('INVALID_REQUEST', 'database URLs must start with postgres:// or postgresql://');
  }
  return url;
}

export async function openDb(opts: StoreOptions = {}): Promise<Db> {
  if (opts.databaseUrl !== undefined && opts.databaseUrl !== '') {
    return PostgresDb.open({ databaseUrl: checkUrl(opts.databaseUrl), schema: opts.schema, max: opts.poolSize });
  }
  return PgliteDb.open(opts.dataDir);
}

/** Opens PGlite or PostgreSQL, migrates (unless told not to) and returns the Store. */
export async function openStore(opts: StoreOptions = {}): Promise<Store> {
  const appUrl = opts.appDatabaseUrl;
  if (appUrl !== undefined && !opts.databaseUrl) {
    throw new StoreError('INVALID_REQUEST', 'appDatabaseUrl needs databaseUrl (PostgreSQL)');
  }
  const db = await openDb(opts);
  let appDb: Db | undefined;
  try {
    if (opts.migrate !== false) await migrate(db);
    if (appUrl !== undefined) {
      appDb = await PostgresDb.open({ databaseUrl: checkUrl(appUrl), schema: opts.schema, max: opts.poolSize, createSchema: false });
    }
  } catch (err) {
    await db.close();
    throw err;
  }
  const store = new Store(db, opts.embedder, appDb);
  if (opts.migrate !== false) {
    try {
      await store.prepareVectors();
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return store;
}
