/**
 * Who shares a memory. Each scope is a namespace in the store, inside the
 * tenant (row-level security keeps tenants apart; scopes divide one tenant):
 *
 *   session  'session:<session key>'  this conversation only
 *   agent    'agent:<agent id>'       every session of this agent
 *   team     'team:<team id>'         every member of the caller's team
 *   tenant   'default'                every agent of the tenant (the store's default
 *                                     namespace, so notes saved before scopes existed stay here)
 */
export const MEMORY_SCOPES = ['session', 'agent', 'team', 'tenant'] as const;
export type MemoryScopeKind = (typeof MEMORY_SCOPES)[number];

/** The caller of a memory tool, as far as scopes are concerned. */
export interface MemoryOwner {
  sessionId: string;
  agentId?: string;
  /** Set when the agent works in a team as its lead, a member or a reviewer. */
  teamId?: string;
}

export const TENANT_NAMESPACE = 'default';

/** Longest id a namespace may carry (the store caps namespaces at 200 characters). */
const MAX_ID = 190;

/** The namespace of `kind` for this owner, or undefined when the owner has none (no team). */
export function scopeNamespace(kind: MemoryScopeKind, owner: MemoryOwner): string | undefined {
  const id = kind === 'session' ? owner.sessionId : kind === 'agent' ? owner.agentId : kind === 'team' ? owner.teamId : '';
  if (id === undefined || (kind !== 'tenant' && id === '')) return undefined;
  return kind === 'tenant' ? TENANT_NAMESPACE : `${kind}:${id.slice(0, MAX_ID)}`;
}

/** Every namespace the owner may read, narrowest first. */
export function visibleNamespaces(owner: MemoryOwner, kinds: readonly MemoryScopeKind[] = MEMORY_SCOPES): string[] {
  const out: string[] = [];
  for (const kind of kinds) {
    const ns = scopeNamespace(kind, owner);
    if (ns !== undefined) out.push(ns);
  }
  return out;
}

/** The scope a namespace belongs to ('tenant' for the default namespace and anything unrecognised). */
export function scopeOf(namespace: string): MemoryScopeKind {
  const at = namespace.indexOf(':');
  const prefix = at === -1 ? '' : namespace.slice(0, at);
  return prefix === 'session' || prefix === 'agent' || prefix === 'team' ? prefix : 'tenant';
}
