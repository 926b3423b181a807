/**
 * MCP server configuration and the limits on what a stdio server may be.
 *
 *   { mcpServers: { files: { command, args, env, cwd }, remote: { url, headers } } }
 *
 * A stdio server is a program Troupe starts, so its command is held to an
 * allowlist, may not contain shell metacharacters (nothing here goes through
 * a shell, but a config that tries is suspicious and refused), and gets only a
 * scrubbed environment: the SDK's short safe list (HOME, LOGNAME, PATH, SHELL,
 * TERM, USER) plus what the config names, minus variables that change how a
 * program loads code (NODE_OPTIONS, LD_PRELOAD, ...).
 */
import * as path from 'node:path';
import { classifyHostname, normalizeHostname } from '../../security/ssrf.js';
import { ToolError } from '../errors.js';

export interface McpStdioServerConfig {
  command: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
}

export interface McpHttpServerConfig {
  url: string;
  headers?: Record<string, string>;
}

export type McpServerConfig = McpStdioServerConfig | McpHttpServerConfig;

export interface McpConfig {
  mcpServers: Record<string, McpServerConfig>;
}

export interface StdioLimits {
  /**
   * Commands a stdio server may be started with: absolute paths match
   * exactly, bare names match a bare command (looked up on PATH). Default:
   * this Node binary and `node`. Not `npx`: `npx -y <name>` downloads and runs
   * whatever package the name points at, so it must be the operator's choice.
   */
  allowedCommands?: readonly string[];
  /** Most arguments (default 64) and longest argument (default 4096). */
  maxArgs?: number;
  maxArgLength?: number;
}

export const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/;
export const MAX_SERVERS = 32;
const SHELL_META = /[;&|`$<>(){}[\]*?!~'"\\\s]/;
const ARG_FORBIDDEN = /[;&|`$<>\r\n\0]/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENV_DENIED = /^(?:NODE_OPTIONS|NODE_PATH|LD_\w+|DYLD_\w+|BASH_ENV|ENV|IFS|PS4|PROMPT_COMMAND|PYTHONSTARTUP|PYTHONPATH|PYTHONHOME|PERL5OPT|PERL5LIB|RUBYOPT|RUBYLIB|GIT_SSH_COMMAND|GIT_EXEC_PATH)$/i;

export function defaultAllowedCommands(): string[] {
  return [process.execPath, 'node'];
}

export function isStdioConfig(config: McpServerConfig): config is McpStdioServerConfig {
  return typeof (config as { command?: unknown }).command === 'string';
}

/** `field`: the entry's field at fault (`command`, `args`, `env`, `cwd`, `url`, `headers`), as the admin API names it. */
function refuse(reason: string, message: string, field?: string): ToolError {
  return new ToolError('FORBIDDEN', reason, message, field === undefined ? {} : { path: field });
}

function invalid(message: string, field?: string): ToolError {
  return new ToolError('INVALID_REQUEST', 'bad_mcp_config', message, field === undefined ? {} : { path: field });
}

function commandAllowed(command: string, allowed: readonly string[]): boolean {
  if (path.isAbsolute(command)) return allowed.some((entry) => path.isAbsolute(entry) && path.normalize(entry) === path.normalize(command));
  return !command.includes('/') && allowed.includes(command);
}

/** Throws FORBIDDEN when a stdio server breaks the limits; returns the config unchanged otherwise. */
export function checkStdioServer(name: string, config: McpStdioServerConfig, limits: StdioLimits = {}): McpStdioServerConfig {
  const { command } = config;
  if (command === '' || SHELL_META.test(command)) {
    throw refuse('mcp_shell_metacharacters', `mcp server ${name}: command contains shell metacharacters or spaces`, 'command');
  }
  if (!commandAllowed(command, limits.allowedCommands ?? defaultAllowedCommands())) {
    throw refuse('mcp_command_not_allowed', `mcp server ${name}: command '${command}' is not in the allowlist (tools.mcp.stdioLimits.allowedCommands)`, 'command');
  }
  const args = config.args ?? [];
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) throw invalid(`mcp server ${name}: args must be strings`, 'args');
  if (args.length > (limits.maxArgs ?? 64)) throw refuse('mcp_too_many_args', `mcp server ${name}: too many arguments`, 'args');
  for (const arg of args) {
    if (arg.length > (limits.maxArgLength ?? 4096)) throw refuse('mcp_arg_too_long', `mcp server ${name}: an argument is too long`, 'args');
    if (ARG_FORBIDDEN.test(arg)) throw refuse('mcp_shell_metacharacters', `mcp server ${name}: argument '${arg.slice(0, 40)}' contains shell metacharacters`, 'args');
  }
  for (const [key, value] of Object.entries(config.env ?? {})) {
    if (!ENV_NAME.test(key) || typeof value !== 'string' || value.includes('\0')) throw invalid(`mcp server ${name}: bad environment variable '${key}'`, 'env');
    if (ENV_DENIED.test(key)) throw refuse('mcp_env_not_allowed', `mcp server ${name}: environment variable ${key} is not allowed`, 'env');
  }
  if (config.cwd !== undefined && !path.isAbsolute(config.cwd)) throw invalid(`mcp server ${name}: cwd must be an absolute path`, 'cwd');
  return config;
}

/** Checks the shape of an HTTP server entry: an http(s) URL and string headers. */
export function checkHttpServer(name: string, config: McpHttpServerConfig): McpHttpServerConfig {
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    throw invalid(`mcp server ${name}: url is not a valid URL`, 'url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`mcp server ${name}: url must be http or https`, 'url');
  for (const [key, value] of Object.entries(config.headers ?? {})) {
    if (typeof value !== 'string' || /[\r\n\0]/.test(key + value)) throw invalid(`mcp server ${name}: bad header '${key}'`, 'headers');
  }
  return config;
}

/**
 * Refuses an HTTP server whose host the SSRF guard (security/ssrf.ts) refuses
 * before any DNS: a loopback, private, link-local or metadata address or name,
 * unless `allowHosts` (tools.mcp.http.allowHosts) names it. An ordinary name
 * passes here; its addresses are checked at every connection (guarded_fetch.ts).
 */
export function checkHttpHost(name: string, config: McpHttpServerConfig, allowHosts: readonly string[] = []): McpHttpServerConfig {
  const host = normalizeHostname(new URL(config.url).hostname.replace(/^\[|\]$/g, ''));
  const verdict = classifyHostname(host);
  if (verdict === null || !verdict.blocked) return config;
  const allowed = allowHosts.some((entry) => {
    const given = classifyHostname(entry);
    return normalizeHostname(entry) === host || (given?.address !== undefined && given.address === verdict.address);
  });
  if (allowed) return config;
  throw refuse('mcp_url_blocked', `mcp server ${name}: ${host} is a ${verdict.reason ?? 'blocked'} address, which the SSRF guard refuses (tools.mcp.http.allowHosts)`, 'url');
}

/** Validates a whole `{ mcpServers }` block; throws on the first bad entry. */
export function checkMcpConfig(config: McpConfig, limits: StdioLimits = {}): McpConfig {
  const entries = Object.entries(config?.mcpServers ?? {});
  if (entries.length > MAX_SERVERS) throw invalid(`at most ${MAX_SERVERS} mcp servers`);
  for (const [name, server] of entries) checkServer(name, server, limits);
  return config;
}

export function checkServer(name: string, server: McpServerConfig, limits: StdioLimits = {}): McpServerConfig {
  if (!SERVER_NAME.test(name)) throw invalid(`mcp server name '${name}' must match ${SERVER_NAME}`, 'id');
  if (server === null || typeof server !== 'object') throw invalid(`mcp server ${name}: entry must be an object`);
  if (isStdioConfig(server)) return checkStdioServer(name, server, limits);
  if (typeof (server as { url?: unknown }).url === 'string') return checkHttpServer(name, server as McpHttpServerConfig);
  throw invalid(`mcp server ${name}: needs either command or url`);
}
