/**
 * Agents in the store, on the store worker: seeding a tenant with the config
 * file's agents (once ever), and the audited changes the admin API makes. A
 * row is the agent's id as `name` and the rest of its definition as `config`.
 */
import { createHash } from 'node:crypto';
import type { AgentConfig } from '../actors/protocol.js';
import type { Agent, Store } from '../store/index.js';
import { auditAdmin, diffFields, ensureTenant, type AdminActor } from './admin_support.js';
import { publicDefinition, type AgentDefinition } from './agent_definition.js';

export type { AgentDefinition } from './agent_definition.js';

/** The most agents a tenant's definitions are read at once (the config file's limit). */
export const MAX_AGENTS = 10_000;

/** Long strings (a system prompt) appear in audit diffs as their length and hash, not in full. */
const MAX_DIFF_TEXT = 512;
const auditable = (config: Record<string, unknown> | undefined): Record<string, unknown> | undefined => config === undefined ? undefined
  : Object.fromEntries(Object.entries(publicDefinition(config)).map(([k, v]) => [k, typeof v === 'string' && v.length > MAX_DIFF_TEXT
    ? `(${v.length} characters, sha256 ${createHash('sha256').update(v).digest('hex').slice(0, 16)})` : v]));

/** A stored row as the AgentConfig runs use. */
export function agentConfigOf(row: Pick<Agent, 'name' | 'config'>): AgentConfig {
  return { ...(row.config as Omit<AgentConfig, 'id'>), id: row.name };
}

export async function seedAgents(store: Store, tenant: string, seed: readonly AgentDefinition[]): Promise<boolean> {
  await ensureTenant(store, tenant);
  return store.withTenant(tenant, (s) => s.agents.seedOnce(seed.map(({ id, ...config }) => {
    const { leads: _derived, ...rest } = config as AgentConfig;
    return { name: id, config: rest as Record<string, unknown> };
  })));
}

/** The tenant's agents, as rows (seed them first: seedAgents). */
export function agentsForTenant(store: Store, tenant: string, limit = MAX_AGENTS): Promise<Agent[]> {
  return store.withTenant(tenant, (s) => s.agents.list({ limit }));
}

export function putAgent(store: Store, tenant: string, id: string, definition: Record<string, unknown>, who: AdminActor): Promise<{ agent: Agent; created: boolean }> {
  return store.withTenant(tenant, async (s) => {
    const before = await s.agents.getByName(id);
    const agent = await s.agents.upsert({ name: id, config: definition });
    await auditAdmin(s, 'admin.agent.put', 'success', id, {
      created: before === null, changes: diffFields(auditable(before?.config), auditable(definition)),
    }, who);
    return { agent, created: before === null };
  });
}

/** The deleted agent, or null when the tenant has none by that id (audited either way). */
export function deleteAgent(store: Store, tenant: string, id: string, who: AdminActor): Promise<Agent | null> {
  return store.withTenant(tenant, async (s) => {
    const before = await s.agents.getByName(id);
    if (before === null) {
      await auditAdmin(s, 'admin.agent.delete', 'failure', id, { error: 'NOT_FOUND' }, who);
      return null;
    }
    const removed = await s.agents.removeByName(id);
    await auditAdmin(s, 'admin.agent.delete', 'success', id, { changes: diffFields(auditable(before.config), undefined) }, who);
    return removed;
  });
}
