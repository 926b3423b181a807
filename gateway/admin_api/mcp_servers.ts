/**
 * /admin/v1/mcp-servers (`admin`): the tenant's MCP servers, whose tools its
 * agents are offered. A tenant starts with the config file's
 * `tools.mcpServers` (seeded once); after that the store is the source of
 * truth. A definition is checked as the config file's are (checkServer: the
 * stdio allowlist and argument limits, an http(s) URL) and an HTTP server's
 * host against the SSRF guard. The values of `headers` and `env` are sealed
 * into the secret `mcp:<id>` and never answered. A change reaches new runs at
 * once, as an agent change does; runs in flight keep their connections.
 */
import { ToolError } from '../../tools/errors.js';
import { checkHttpHost, checkServer, type McpServerConfig, type StdioLimits } from '../../tools/mcp/config.js';
import { invalidField, TroupeError } from '../../transports/errors.js';
import type { StoredMcpServer } from '../../store/index.js';
import type { z } from 'zod';
import { checkTenantLimit } from '../admin_limits.js';
import { seededOnce, type AdminCall, type AdminRouter } from './router.js';
import { LimitQuery, McpServerBody, McpServerDeleted, McpServerIdParams, McpServerList, McpServerOut, McpServerPatch } from './schemas.js';

export interface McpServerRoutesDeps {
  /** The config file's `tools.mcpServers`: what a tenant starts with. */
  seed: Record<string, McpServerConfig>;
  /** tools.mcp.stdioLimits: what a stdio server may run. */
  stdioLimits: StdioLimits;
  /** tools.mcp.http.allowHosts: SSRF exceptions an HTTP server's host may use. */
  allowHosts: readonly string[];
  /** Most servers of one tenant. */
  maxPerTenant: number;
  /** Told after every change (the gateway pushes it to the workers). */
  changed(tenant: string): Promise<void>;
}

const out = (row: StoredMcpServer) => ({ ...row.config, id: row.id, createdAt: row.createdAt, updatedAt: row.updatedAt });

type Values = Record<string, string> | null | undefined;

/** A body's definition (what is stored) and its headers' or env's values (what is sealed). */
function parts(body: Record<string, unknown>): { definition: Record<string, unknown>; values: Values } {
  const { headers, env, ...rest } = body;
  const definition = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined && v !== null));
  return { definition, values: (typeof definition.url === 'string' ? headers : env) as Values };
}

export function mcpServerRoutes(router: AdminRouter, deps: McpServerRoutesDeps): void {
  const ready = seededOnce((store, tenant) => store.seedMcpServers(tenant, deps.seed));
  const notFound = (id: string) => new TroupeError('NOT_FOUND', `no MCP server ${id}`, { reason: 'no_mcp_server' });
  /** The checks the config file's servers get, plus the SSRF guard's on an HTTP server's host; a refusal names the field. */
  const admit = (id: string, definition: Record<string, unknown>, values: Values): void => {
    const server = { ...definition, ...(values == null ? {} : { [typeof definition.url === 'string' ? 'headers' : 'env']: values }) } as unknown as McpServerConfig;
    try {
      checkServer(id, server, deps.stdioLimits);
      if ('url' in server) checkHttpHost(id, server, deps.allowHosts);
    } catch (err) {
      if (err instanceof ToolError) throw invalidField(err.path ?? 'body', err.message, err.reason);
      throw err;
    }
  };
  /** Admits the definition, then stores it (a new one within the tenant's limit) and tells the workers. */
  const save = async (call: AdminCall<typeof McpServerIdParams, z.ZodObject, z.ZodType>, definition: Record<string, unknown>, values: Values) => {
    const { store, tenant, params, who } = call;
    admit(params.id, definition, values);
    await checkTenantLimit('mcpServers', () => store.getMcpServer(tenant, params.id), (n) => store.listMcpServers(tenant, n), deps.maxPerTenant);
    const saved = await store.putMcpServer(tenant, params.id, definition, values, who, deps.maxPerTenant);
    await deps.changed(tenant);
    return out(saved);
  };

  router.add({
    verb: 'GET', path: '/mcp-servers', action: 'admin.mcp_server.list', summary: "The tenant's MCP servers (never their headers' or env's values)", tenanted: true,
    query: LimitQuery, response: McpServerList,
    handle: async ({ store, tenant, query }) => {
      await ready(store, tenant);
      return { data: (await store.listMcpServers(tenant, query.limit ?? 100)).map(out) };
    },
  });
  router.add({
    verb: 'GET', path: '/mcp-servers/:id', action: 'admin.mcp_server.get', summary: 'One MCP server (never its values)', tenanted: true,
    params: McpServerIdParams, response: McpServerOut,
    handle: async ({ store, tenant, params }) => {
      await ready(store, tenant);
      const row = await store.getMcpServer(tenant, params.id);
      if (row === null) throw notFound(params.id);
      return out(row);
    },
  });
  router.add({
    verb: 'PUT', path: '/mcp-servers/:id', action: 'admin.mcp_server.put', summary: "Create an MCP server or replace its definition; headers' and env's values are sealed, never answered", tenanted: true,
    params: McpServerIdParams, body: McpServerBody, response: McpServerOut,
    handle: async (call) => {
      await ready(call.store, call.tenant);
      const { definition, values } = parts(call.body);
      return save(call, definition, values);
    },
  });
  router.add({
    verb: 'PATCH', path: '/mcp-servers/:id', action: 'admin.mcp_server.patch', summary: "Change some of an MCP server's fields (null removes one)", tenanted: true,
    params: McpServerIdParams, body: McpServerPatch, response: McpServerOut,
    handle: async (call) => {
      const { store, tenant, params, body } = call;
      await ready(store, tenant);
      const before = await store.getMcpServer(tenant, params.id);
      if (before === null) throw notFound(params.id);
      const { headerNames: _h, envNames: _e, ...merged } = before.config;
      for (const [k, v] of Object.entries(body)) {
        if (v === null) delete merged[k];
        else if (v !== undefined) merged[k] = v;
      }
      // The result must be a whole server, as a PUT body would.
      const whole = McpServerBody.safeParse(merged);
      if (!whole.success) {
        const issue = whole.error.issues[0];
        throw invalidField(issue.path.join('.') || 'body', `${issue.path.join('.')}: ${issue.message}`, 'invalid_field');
      }
      const { definition } = parts(whole.data);
      // Values: given (or null) in the body replace the stored ones; absent, the stored ones are kept (same kind only).
      const field = typeof definition.url === 'string' ? 'headers' : 'env';
      return save(call, definition, body[field]);
    },
  });
  router.add({
    verb: 'DELETE', path: '/mcp-servers/:id', action: 'admin.mcp_server.delete', summary: 'Delete an MCP server and its sealed values (runs in flight keep their connection)', tenanted: true,
    params: McpServerIdParams, response: McpServerDeleted,
    handle: async ({ store, tenant, params, who }) => {
      await ready(store, tenant);
      if ((await store.deleteMcpServer(tenant, params.id, who)) === null) throw notFound(params.id);
      await deps.changed(tenant);
      return { id: params.id, deleted: true as const };
    },
  });
}
