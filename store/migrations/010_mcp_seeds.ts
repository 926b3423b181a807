import type { Migration } from './migration.js';

/**
 * MCP servers are seeded like agents: once per tenant from the config file's
 * `tools.mcpServers`, remembered in `config_seeds` so a server an admin
 * deleted is not seeded back at the next start.
 */
const sql = String.raw`
ALTER TABLE config_seeds DROP CONSTRAINT config_seeds_kind_check;
ALTER TABLE config_seeds ADD CONSTRAINT config_seeds_kind_check CHECK (kind IN ('agents', 'mcp_servers'));
`;

export const migration010: Migration = { version: 10, name: 'mcp_seeds', sql };
