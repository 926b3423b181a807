/** The admin API: every /admin/v1 route on the front door's HTTP edge, and its OpenAPI document. */
import type { ChannelSpec } from '../../transports/channels/config.js';
import type { HttpEdge } from '../../transports/http_edge.js';
import type { AdminStore } from './admin_store.js';
import { agentRoutes, type AgentRoutesDeps } from './agents.js';
import { apiKeyRoutes, type InvalidateKey } from './api_keys.js';
import { auditRoutes } from './audit.js';
import { channelRoutes } from './channels.js';
import { mcpServerRoutes, type McpServerRoutesDeps } from './mcp_servers.js';
import { openApiDocument } from './openapi.js';
import { providerRoutes, type ProviderRoutesDeps } from './providers.js';
import { z } from 'zod';
import { AdminRouter } from './router.js';
import { secretRoutes } from './secrets.js';
import { tenantRoutes } from './tenants.js';
import { tokenRoutes, type TokenSigner } from './token.js';

// storeAdmin (admin_store.ts) runs on the store worker; the edge only knows the interface.
export type { AdminStore } from './admin_store.js';

export interface AdminApiDeps {
  /** Absent (TROUPE_STORE=none): data routes answer NOT_FOUND. */
  store: AdminStore | undefined;
  channels: readonly ChannelSpec[];
  invalidateKey: InvalidateKey;
  /** The config file's agents (what a tenant starts with), and how a change reaches the workers. */
  agents: AgentRoutesDeps;
  providers: ProviderRoutesDeps;
  /** Issues sign-in tokens (POST /token); absent when the gateway has no HS256 secret (TROUPE_JWKS). */
  sign: TokenSigner | undefined;
  /** The config file's MCP servers (what a tenant starts with), the limits a definition is held to, and how a change reaches the workers. */
  mcpServers: McpServerRoutesDeps;
  log: (msg: string, err: unknown) => void;
}

/** The version of the /admin/v1 contract in the OpenAPI document. */
export const ADMIN_API_VERSION = '1.0.0';

export function registerAdminApi(edge: HttpEdge, deps: AdminApiDeps): AdminRouter {
  const router = new AdminRouter(edge, deps.store, deps.log);
  let doc: unknown;
  router.public({
    path: '/openapi.json', action: 'admin.openapi', summary: 'This document', response: z.looseObject({ openapi: z.literal('3.1.0') }),
    handle: () => (doc ??= openApiDocument(router, ADMIN_API_VERSION)),
  });
  tokenRoutes(router, deps.sign);
  tenantRoutes(router);
  agentRoutes(router, deps.agents);
  providerRoutes(router, deps.providers);
  mcpServerRoutes(router, deps.mcpServers);
  apiKeyRoutes(router, deps.invalidateKey);
  secretRoutes(router);
  auditRoutes(router);
  channelRoutes(router, deps.channels);
  return router;
}
