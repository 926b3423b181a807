/**
 * The scopes a JWT or an API key can carry, and what each allows. Which scope
 * each WebSocket method and HTTP route needs is the front door's access table
 * (transports/access.ts); this file says what the words mean and which imply
 * which. docs/admin.md mirrors it.
 */

export const SCOPES = {
  chat: 'chat over WebSocket (chat.*, sessions.list, agents.list, ping, health) and the OpenAI-compatible /v1 API',
  admin: "the caller's own tenant through /admin/v1: agents, providers, MCP servers, API keys, secrets, channels, audit",
  platform: 'every tenant: /admin/v1/tenants, and any tenant\'s resources by ?tenant=; implies every other scope',
  'usage:read': "read the caller's tenant usage",
  metrics: 'scrape /metrics',
  channels: "list the caller's tenant channels and approve or deny pairings",
  'audit:read': "query and verify the caller's tenant audit log",
} as const;

export type Scope = keyof typeof SCOPES;

export const SCOPE_NAMES = Object.keys(SCOPES) as Scope[];

/** Scopes a broader one carries with it. */
const IMPLIES: Readonly<Record<Scope, readonly Scope[]>> = {
  platform: SCOPE_NAMES,
  admin: ['admin', 'usage:read', 'channels', 'audit:read'],
  chat: ['chat'],
  'usage:read': ['usage:read'],
  metrics: ['metrics'],
  channels: ['channels'],
  'audit:read': ['audit:read'],
};

export function isScope(value: string): value is Scope {
  return Object.hasOwn(SCOPES, value);
}

/**
 * Whether granted scopes allow `needed`. A credential with no scopes at all
 * counts as `chat`: tokens from `troupe token` and keys made before scopes
 * were enforced keep chatting, and can do nothing else.
 */
export function allows(granted: readonly string[], needed: Scope): boolean {
  if (granted.length === 0) return needed === 'chat';
  for (const g of granted) if (isScope(g) && IMPLIES[g].includes(needed)) return true;
  return false;
}
