/** `memory_save` and `memory_search`: notes an agent keeps across turns, per tenant. */
import type { ToolDefinition } from '../types.js';
import type { MemoryStore } from './memory_store.js';

export function memoryTools(store: MemoryStore): ToolDefinition[] {
  const save: ToolDefinition = {
    name: 'memory_save',
    description: 'Save a short note to long-term memory so it can be found later with memory_search.',
    parameters: {
      type: 'object',
      properties: {
        text: { type: 'string', minLength: 1, maxLength: 4000 },
        tags: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 64 }, maxItems: 16 },
      },
      required: ['text'],
      additionalProperties: false,
    },
    readOnly: false,
    group: 'memory',
    async run(args, ctx) {
      const tags = Array.isArray(args.tags) ? (args.tags as string[]) : [];
      const record = await store.save({ tenant: ctx.tenant, sessionId: ctx.sessionId }, args.text as string, tags);
      return { content: `saved memory ${record.id}`, data: record };
    },
  };
  const search: ToolDefinition = {
    name: 'memory_search',
    description: 'Search long-term memory for notes matching a query. Returns the best matches first.',
    parameters: {
      type: 'object',
      properties: {
        query: { type: 'string', minLength: 1, maxLength: 1000 },
        limit: { type: 'integer', minimum: 1, maximum: 50 },
      },
      required: ['query'],
      additionalProperties: false,
    },
    readOnly: true,
    group: 'memory',
    async run(args, ctx) {
      const limit = typeof args.limit === 'number' ? args.limit : 5;
      const hits = await store.search({ tenant: ctx.tenant, sessionId: ctx.sessionId }, args.query as string, limit);
      const content = hits.length === 0 ? 'no matching memories' : hits.map((h) => `[${h.id}] ${h.text}`).join('\n');
      return { content, data: hits };
    },
  };
  return [save, search];
}
