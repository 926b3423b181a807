/** Public surface of store/: the SQL system of record. */
export type { Db, Queryable, QueryResult, Row } from './db.js';
export { StoreError, type StoreErrorCode } from './errors.js';
export { PgliteDb } from './pglite_db.js';
export { PostgresDb, type PostgresOptions } from './postgres_db.js';
export { migrate, MIGRATION_LOCK_KEY, type MigrateResult } from './migrate.js';
export { migrations, type Migration } from './migrations/index.js';
export { APP_ROLE, withTenant, enterTenant, asAppRole } from './tenant.js';
export { openStore, openDb, Store, TenantScope, type StoreOptions } from './store.js';
export { WriteBehindQueue, type WriteBehindOptions, type WriteBehindStats, type OverflowPolicy } from './write_behind.js';
export { MessageWriter, type QueuedMessage, type TenantMessage } from './message_writer.js';
export type { Embedder, VectorSearch } from './memory/embedder.js';
export { normalize } from './memory/normalize.js';
export { HashEmbedder } from './memory/hash_embedder.js';
export { reciprocalRankFusion, RRF_K } from './memory/fusion.js';
export type { Tenant, TenantsRepo } from './repos/tenants.js';
export type { User, UsersRepo } from './repos/users.js';
export { hashApiKey, type ApiKey, type ApiKeyMatch, type ApiKeysRepo, type NewApiKey } from './repos/api_keys.js';
export type { Agent, AgentsRepo } from './repos/agents.js';
export type { McpServersRepo, ProvidersRepo, StoredMcpServer, StoredProvider } from './repos/admin_config.js';
export type { Session, SessionsRepo, NewSession } from './repos/sessions.js';
export { MESSAGE_ROLES, type Message, type MessagePage, type MessageRole, type MessagesRepo, type NewMessage } from './repos/messages.js';
export { RUN_STATUSES, type Run, type RunStatus, type RunsRepo, type Usage } from './repos/runs.js';
export type { ToolCall, ToolCallOutcome, ToolCallStatus, ToolCallsRepo } from './repos/tool_calls.js';
export {
  SYSTEM_TENANT,
  GENESIS_HASH,
  verifyAuditChain,
  type AuditEvent,
  type AuditOutcome,
  type AuditRecord,
  type AuditRepo,
  type ChainVerdict,
} from './repos/audit.js';
export type { SealedSecret, SecretsRepo } from './repos/secrets.js';
export { SqlMemoryRepo, MAX_NAMESPACES, type MemoryHit, type MemoryIndex, type MemoryItem, type MemoryRepo, type MemorySaveInput, type MemorySearchOptions } from './repos/memory.js';
export type { ChannelPairing, ChannelPairingsRepo } from './repos/channel_pairings.js';
export { TEAM_RUN_STATUSES, type NewTeamRun, type TeamRun, type TeamRunStatus, type TeamRunsRepo } from './repos/team_runs.js';
export {
  TEAM_REVIEW_KINDS, TEAM_TASK_FINAL, TEAM_TASK_STATUSES,
  type Lease, type NewTeamTask, type TaskFilter, type TeamReview, type TeamReviewKind, type TeamTask, type TeamTaskStatus, type TeamTasksRepo,
} from './repos/team_tasks.js';
export { USAGE_GROUPS, USAGE_OUTCOMES, type UsageEvent, type UsageGroup, type UsageOutcome, type UsageQuery, type UsageRepo, type UsageRow } from './repos/usage.js';
