/**
 * `memory_save` and `memory_search`: notes an agent keeps across turns, in
 * scopes (memory_scope.ts): this session, this agent, the caller's team, or the
 * whole tenant. The tenant always comes from the authenticated caller, never
 * from the model's arguments.
 */
import { ToolError } from '../errors.js';
import type { ToolContext, ToolDefinition } from '../types.js';
import { MEMORY_SCOPES, scopeNamespace, scopeOf, visibleNamespaces, type MemoryOwner, type MemoryScopeKind } from './memory_scope.js';
import type { MemoryStore } from './memory_store.js';

const owner = (ctx: ToolContext): MemoryOwner => ({
  sessionId: ctx.sessionId,
  ...(ctx.agentId === undefined ? {} : { agentId: ctx.agentId }),
  ...(ctx.teamId === undefined ? {} : { teamId: ctx.teamId }),
});

/** Why a scope is unavailable to this caller. */
function noScope(kind: MemoryScopeKind): string {
  return kind === 'team'
    ? 'memory scope "team" is only for agents working in a team (as its lead, a member or a reviewer); use "agent" or "tenant"'
    : `there is no ${kind} memory here`;
}

export function memoryTools(store: MemoryStore): ToolDefinition[] {
  const save: ToolDefinition = {
    name: 'memory_save',
    description:
      'Save a short note to long-term memory so it can be found later with memory_search. ' +
      'scope: "session" (this conversation), "agent" (default: all your conversations), "team" (your team), "tenant" (every agent).',
    parameters: {
      type: 'object',
      properties: {
        text: { type: 'string', minLength: 1, maxLength: 4000 },
        tags: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 64 }, maxItems: 16 },
        scope: { type: 'string', enum: [...MEMORY_SCOPES] },
      },
      required: ['text'],
      additionalProperties: false,
    },
    readOnly: false,
    group: 'memory',
    async run(args, ctx) {
      const tags = Array.isArray(args.tags) ? (args.tags as string[]) : [];
      const who = owner(ctx);
      const kind = (args.scope as MemoryScopeKind | undefined) ?? (who.agentId === undefined ? 'session' : 'agent');
      const namespace = scopeNamespace(kind, who);
      if (namespace === undefined) throw new ToolError('INVALID_REQUEST', 'no_scope', noScope(kind), { path: '$.scope' });
      const record = await store.save(ctx.tenant, namespace, args.text as string, tags);
      return { content: `saved memory ${record.id} (${kind})`, data: { ...record, scope: kind } };
    },
  };
  const search: ToolDefinition = {
    name: 'memory_search',
    description:
      'Search long-term memory for notes matching a query, by meaning and by words. Returns the best matches first. ' +
      'Searches every scope you can see unless scope narrows it.',
    parameters: {
      type: 'object',
      properties: {
        query: { type: 'string', minLength: 1, maxLength: 1000 },
        limit: { type: 'integer', minimum: 1, maximum: 50 },
        scope: { type: 'string', enum: [...MEMORY_SCOPES] },
      },
      required: ['query'],
      additionalProperties: false,
    },
    readOnly: true,
    group: 'memory',
    async run(args, ctx) {
      const limit = typeof args.limit === 'number' ? args.limit : 5;
      const kinds = typeof args.scope === 'string' ? [args.scope as MemoryScopeKind] : MEMORY_SCOPES;
      const namespaces = visibleNamespaces(owner(ctx), kinds);
      if (namespaces.length === 0) throw new ToolError('INVALID_REQUEST', 'no_scope', noScope(kinds[0]), { path: '$.scope' });
      const hits = (await store.search(ctx.tenant, namespaces, args.query as string, limit)).map((h) => ({ ...h, scope: scopeOf(h.namespace) }));
      const content = hits.length === 0 ? 'no matching memories' : hits.map((h) => `[${h.id}] (${h.scope}) ${h.text}`).join('\n');
      return { content, data: hits };
    },
  };
  return [save, search];
}
