/**
 * The `teams` block of the configuration and agents' `allowAgents`: team ids
 * unique, limits positive integers, `allowAgents` naming agents of the config
 * file. A team's lead, members and reviewers may be agents of the file or
 * agents that tenants define in the store only (PUT /admin/v1/agents/:id): such
 * names are only checked for shape here and returned in `storeOnly`, and each
 * tenant's team runs check them (actors/team/coordinator.ts). The agents a team
 * has as lead learn it here (`leads`), which is what offers them the lead's
 * team tools.
 */
import type { AgentConfig } from '../actors/protocol.js';
import { TEAM_DEFAULTS, type TeamConfig } from '../actors/team/protocol.js';
import { ConfigError } from './config_error.js';

const TEAM_ID = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$/;
/** As the admin API takes agent ids (gateway/admin_api/schemas.ts). */
const MAX_AGENT_ID = 128;

export function checkTeams(teams: unknown, agents: AgentConfig[]): { teams: TeamConfig[]; agents: AgentConfig[]; storeOnly: string[] } {
  const list = teams ?? [];
  if (!Array.isArray(list)) throw new ConfigError('teams must be an array of { id, lead, members, reviewers?, limits? }');
  const known = new Set(agents.map((a) => a.id));
  const storeOnly = new Set<string>();
  const agent = (where: string, id: unknown): string => {
    if (typeof id !== 'string' || !known.has(id)) throw new ConfigError(`${where}: "${String(id)}" is not a configured agent`);
    return id;
  };
  const teamAgent = (where: string, id: unknown): string => {
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_AGENT_ID) throw new ConfigError(`${where}: an agent id (1-${MAX_AGENT_ID} characters) is expected, got ${JSON.stringify(id)}`);
    if (!known.has(id)) storeOnly.add(id);
    return id;
  };
  const seen = new Set<string>();
  const out: TeamConfig[] = list.map((raw: unknown, i) => {
    const t = (raw ?? {}) as Partial<TeamConfig>;
    if (typeof t.id !== 'string' || !TEAM_ID.test(t.id)) throw new ConfigError(`teams[${i}].id must be 1-64 characters of [A-Za-z0-9_.:-]`);
    if (seen.has(t.id)) throw new ConfigError(`teams: "${t.id}" appears twice`);
    seen.add(t.id);
    if (!Array.isArray(t.members) || t.members.length === 0) throw new ConfigError(`team ${t.id}: "members" must be a non-empty array of agent ids`);
    const limits = t.limits ?? {};
    for (const [k, v] of Object.entries(limits)) {
      if (!(k in TEAM_DEFAULTS)) throw new ConfigError(`team ${t.id}: unknown limit "${k}" (known: ${Object.keys(TEAM_DEFAULTS).join(', ')})`);
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new ConfigError(`team ${t.id}: limits.${k} must be a positive integer`);
    }
    return {
      id: t.id,
      lead: teamAgent(`team ${t.id}.lead`, t.lead),
      members: t.members.map((m) => teamAgent(`team ${t.id}.members`, m)),
      ...(t.reviewers === undefined ? {} : { reviewers: (Array.isArray(t.reviewers) ? t.reviewers : [t.reviewers]).map((r) => teamAgent(`team ${t.id}.reviewers`, r)) }),
      limits,
    };
  });
  const withLeads = agents.map((a) => {
    for (const target of a.allowAgents ?? []) agent(`agent ${a.id}.allowAgents`, target);
    const leads = out.filter((t) => t.lead === a.id).map((t) => t.id);
    return leads.length === 0 ? a : { ...a, leads };
  });
  return { teams: out, agents: withLeads, storeOnly: [...storeOnly] };
}
