/**
 * The OpenAPI 3.1 document of /admin/v1, generated from the routes the router
 * serves and their zod schemas (zod 4's `z.toJSONSchema`): a route exists in
 * the document exactly when it is served, with the schemas it is checked by.
 */
import { z } from 'zod';
import { ruleOf } from '../../transports/access.js';
import { ADMIN_PREFIX, type AdminRouter } from './router.js';
import { ErrorOut, TenantQuery } from './schemas.js';

type Json = Record<string, unknown>;

function schemaOf(s: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io }) as Json;
  return rest;
}

function parameters(where: 'path' | 'query', s: z.ZodObject | undefined): Json[] {
  if (s === undefined) return [];
  const json = schemaOf(s, 'input') as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return {
      name, in: where, required: where === 'path' || (json.required ?? []).includes(name), schema: rest,
      ...(description === undefined ? {} : { description }),
    };
  });
}

const ERRORS: Json = { description: 'an error from the catalogue (400 INVALID_REQUEST names the field in `param`)', content: { 'application/json': { schema: schemaOf(ErrorOut, 'output') } } };

export function openApiDocument(router: AdminRouter, version: string): Json {
  const paths: Record<string, Json> = {};
  for (const r of router.routes) {
    const path = ADMIN_PREFIX + r.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const scope = ruleOf(`${r.verb} ${ADMIN_PREFIX}${r.path}`);
    const isPublic = 'public' in r;
    const op: Json = {
      operationId: r.action,
      summary: r.summary,
      'x-troupe-scope': scope,
      security: isPublic ? [] : [{ bearer: [] }],
      responses: {
        [String(isPublic ? 200 : r.status ?? 200)]: { description: 'success', content: { 'application/json': { schema: schemaOf(r.response, 'output') } } },
        ...(isPublic ? {} : { '4XX': ERRORS, '5XX': ERRORS }),
      },
    };
    if (!isPublic) {
      const query = r.tenanted ? (r.query ?? TenantQuery).extend(TenantQuery.shape) : r.query;
      const params = [...parameters('path', r.params), ...parameters('query', query)];
      if (params.length > 0) op.parameters = params;
      if (r.body !== undefined) op.requestBody = { required: true, content: { 'application/json': { schema: schemaOf(r.body, 'input') } } };
    }
    paths[path] = { ...paths[path], [r.verb.toLowerCase()]: op };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Troupe admin API', version, description: 'Scopes and examples: docs/admin.md' },
    servers: [{ url: '/' }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a JWT or an API key' } } },
    paths,
  };
}
