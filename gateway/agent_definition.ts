/**
 * An agent as the store keeps it and the admin API serves it. Kept apart from
 * admin_agents.ts (which runs on the store worker) so the main thread can use
 * it without loading the store's drivers.
 */
import type { AgentConfig } from '../actors/protocol.js';

/** The config file's agent, as seeded into a tenant (`leads` is derived from teams, never stored). */
export type AgentDefinition = Omit<AgentConfig, 'leads'>;

/** An agent's definition without what never leaves the store (an inline provider key). */
export function publicDefinition(config: Record<string, unknown>): Record<string, unknown> {
  const provider = config.provider as Record<string, unknown> | undefined;
  if (provider === undefined || !('apiKey' in provider)) return config;
  const { apiKey: _secret, ...rest } = provider;
  return { ...config, provider: rest };
}
