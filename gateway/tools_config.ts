/**
 * The `tools` block of the gateway config, checked at load against a JSON
 * Schema (the same validator tool arguments go through), then the parts a
 * schema cannot judge: MCP servers against the stdio allowlist, isolated tool
 * modules that must exist. Paths are resolved here, so the tool hosts on the
 * workers get file: URLs only.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ToolsConfig } from '../actors/tool_host.js';
import { checkMcpConfig } from '../tools/mcp/config.js';
import { TOOL_NAME } from '../tools/registry.js';
import { validate, type JsonSchema } from '../tools/schema.js';
import { ConfigError } from './config_error.js';

/** What a config file may set under `tools` (the gateway adds the rest). */
export type ToolsFileConfig = Omit<ToolsConfig, 'workspaceRoot' | 'injectionAction' | 'memory'>;

export const MAX_ISOLATED_TOOLS = 64;
const MAX_MS = 2 ** 31 - 1;

const ms = { type: 'integer', minimum: 1, maximum: MAX_MS };
const msOrZero = { type: 'integer', minimum: 0, maximum: MAX_MS };
const count = (max: number) => ({ type: 'integer', minimum: 1, maximum: max });
const strings = (maxItems: number) => ({ type: 'array', items: { type: 'string', minLength: 1, maxLength: 4096 }, maxItems });
const object = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', properties, required, additionalProperties: false });

const SCHEMA: JsonSchema = object({
  builtins: object({
    files: object({ maxReadBytes: count(1 << 30), maxWriteChars: count(1 << 30), maxListEntries: count(1e6), maxListDepth: count(64) }),
    webFetch: object({ allowHosts: strings(256), maxBytes: count(1 << 30), timeoutMs: ms, maxRedirects: { type: 'integer', minimum: 0, maximum: 20 } }),
    exec: object({
      enabled: { type: 'boolean' }, shell: { type: 'string', minLength: 1 }, timeoutMs: ms, maxOutputBytes: count(1 << 30),
      env: { type: 'object', additionalProperties: { type: 'string' } },
      guard: { type: 'object' },
    }),
  }),
  mcpServers: { type: 'object' },
  mcp: object({
    connectTimeoutMs: ms, callTimeoutMs: ms, healthIntervalMs: msOrZero, pingTimeoutMs: ms,
    backoff: object({ baseMs: ms, maxMs: ms }),
    maxReconnectAttempts: { type: 'integer', minimum: 0 }, maxTools: count(1024),
    stdioLimits: object({ allowedCommands: strings(64), maxArgs: count(1024), maxArgLength: count(1 << 20) }),
    http: object({ allowHosts: strings(256), timeoutMs: ms, maxBytes: count(1 << 30) }),
  }),
  defaultTimeoutMs: ms,
  isolated: {
    type: 'array', maxItems: MAX_ISOLATED_TOOLS,
    items: object({
      name: { type: 'string', minLength: 1, maxLength: 64 }, description: { type: 'string', maxLength: 4096 },
      parameters: { type: 'object' }, module: { type: 'string', minLength: 1 }, export: { type: 'string', minLength: 1 },
      timeoutMs: ms, readOnly: { type: 'boolean' }, group: { type: 'string', minLength: 1, maxLength: 64 },
    }, ['name', 'description', 'parameters', 'module']),
  },
  isolatedPool: object({ maxThreads: count(64), maxQueue: { type: 'integer', minimum: 0, maximum: 65_536 }, idleTimeoutMs: msOrZero, maxHeapMb: count(65_536) }),
});

/** A module given as a path (relative to `baseDir`) or a file: URL, as a file: URL to an existing file. */
function moduleUrl(tool: string, given: string, baseDir: string): string {
  let file: string;
  if (given.startsWith('file:')) {
    try {
      file = fileURLToPath(given);
    } catch {
      throw new ConfigError(`tools.isolated ${tool}: module '${given}' is not a valid file URL`, 'bad_tool_module');
    }
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(given) && !/^[a-z]:[\\/]/i.test(given)) {
    throw new ConfigError(`tools.isolated ${tool}: module must be a file path or a file: URL, got '${given}'`, 'bad_tool_module');
  } else {
    file = resolve(baseDir, given);
  }
  if (!existsSync(file)) throw new ConfigError(`tools.isolated ${tool}: module ${file} does not exist`, 'bad_tool_module');
  return pathToFileURL(file).href;
}

/**
 * Checks a config file's `tools` block and returns it with isolated tools'
 * modules as file: URLs. Throws ConfigError naming the setting.
 */
export function checkToolsConfig(value: unknown, baseDir: string): ToolsFileConfig {
  if (value === undefined) return {};
  const builtins = (value as { builtins?: { memory?: unknown } } | null)?.builtins;
  if (builtins !== null && typeof builtins === 'object' && 'memory' in builtins) {
    throw new ConfigError('tools.builtins.memory cannot be set in a config file: memory tools use the store\'s memory, or an in-process one with TROUPE_STORE=none', 'bad_tools_config');
  }
  const issues = validate(SCHEMA, value);
  if (issues.length > 0) {
    const where = (path: string) => `tools${path.slice(1)}`;
    throw new ConfigError(issues.map((i) => `${where(i.path)} ${i.message}`).join('; '), 'bad_tools_config');
  }
  const tools = value as ToolsFileConfig;
  try {
    checkMcpConfig({ mcpServers: tools.mcpServers ?? {} }, tools.mcp?.stdioLimits);
  } catch (err) {
    const e = err as { reason?: string; message?: string };
    throw new ConfigError(`tools.mcpServers: ${e.message ?? String(err)}`, e.reason ?? 'bad_mcp_config');
  }
  const seen = new Set<string>();
  const isolated = (tools.isolated ?? []).map((spec) => {
    if (!TOOL_NAME.test(spec.name)) throw new ConfigError(`tools.isolated: name '${spec.name}' must match ${TOOL_NAME}`, 'bad_tools_config');
    if (seen.has(spec.name)) throw new ConfigError(`tools.isolated: ${spec.name} is listed twice`, 'bad_tools_config');
    seen.add(spec.name);
    return { ...spec, module: moduleUrl(spec.name, spec.module, baseDir) };
  });
  return { ...tools, ...(tools.isolated === undefined ? {} : { isolated }) };
}
