/** Public surface of tools/: the registry, policies, built-ins, isolated tools and the MCP client. */
export { ToolRegistry, TOOL_NAME, DEFAULT_TOOL_TIMEOUT_MS, DEFAULT_MAX_TOOLS, DEADLINE_GRACE_MS } from './registry.js';
export type { CallOptions, ToolRegistryOptions, ToolSpecLike } from './registry.js';
export { ToolPolicy } from './policy.js';
export type { ToolPolicyConfig } from './policy.js';
export { ToolError, toToolError, isToolErrorCode } from './errors.js';
export type { ToolErrorCode, ToolErrorOptions } from './errors.js';
export { validate } from './schema.js';
export type { SchemaIssue, ValidateOptions } from './schema.js';
export type { InvokeContext, JsonSchema, ToolContext, ToolDefinition, ToolResult } from './types.js';
export { DEFAULT_MAX_OUTPUT_CHARS, clampResult, markUntrusted } from './output.js';
export { isolatedTool } from './isolated.js';
export type { IsolatedToolInput, IsolatedToolSpec } from './isolated.js';
export { resolveInWorkspace, workspaceRoot } from './workspace.js';
export * from './builtin/index.js';
export * from './mcp/index.js';
