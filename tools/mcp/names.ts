/**
 * Registry names of MCP tools: `mcp_<server>_<tool>`. Provider APIs accept
 * `[A-Za-z0-9_-]{1,64}`. A tool name that fits is used as is; otherwise other
 * characters become `_`, the name is cut, and a short hash of the original is
 * appended, so two rewritten names never collide.
 */
import { createHash } from 'node:crypto';

export const MCP_PREFIX = 'mcp_';
const MAX_NAME = 64;

export function mcpToolName(server: string, tool: string): string {
  const raw = `${MCP_PREFIX}${server}_${tool}`;
  if (raw.length <= MAX_NAME && /^[A-Za-z0-9_-]+$/.test(raw)) return raw;
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, 8);
  return `${raw.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, MAX_NAME - 9)}_${hash}`;
}
