/** The built-in tools and one call to register them. */
import type { ToolRegistry } from '../registry.js';
import type { ToolDefinition } from '../types.js';
import { datetimeTool } from './datetime.js';
import { execTool } from './exec.js';
import type { ExecOptions } from './exec.js';
import { fileTools } from './files.js';
import type { FileToolsOptions } from './files.js';
import { memoryTools } from './memory.js';
import { InMemoryMemoryStore } from './memory_store.js';
import type { MemoryStore } from './memory_store.js';
import { webFetchTool } from './web_fetch.js';
import type { WebFetchOptions } from './web_fetch.js';

export interface BuiltinToolsOptions {
  files?: FileToolsOptions;
  webFetch?: WebFetchOptions;
  /** exec is registered only with `exec.enabled: true`. */
  exec?: ExecOptions;
  /** Default: a fresh InMemoryMemoryStore. */
  memory?: MemoryStore;
}

export function builtinTools(options: BuiltinToolsOptions = {}): ToolDefinition[] {
  const tools = [
    datetimeTool(),
    webFetchTool(options.webFetch),
    ...fileTools(options.files),
    ...memoryTools(options.memory ?? new InMemoryMemoryStore()),
  ];
  if (options.exec?.enabled === true) tools.push(execTool(options.exec));
  return tools;
}

/** Registers every built-in tool the options enable; returns their names. */
export function registerBuiltins(registry: ToolRegistry, options: BuiltinToolsOptions = {}): string[] {
  const tools = builtinTools(options);
  for (const tool of tools) registry.register(tool);
  return tools.map((t) => t.name);
}

export { datetimeTool, execTool, fileTools, memoryTools, webFetchTool, InMemoryMemoryStore };
export type { ExecOptions, FileToolsOptions, MemoryStore, WebFetchOptions };
export type { MemoryRecord, MemorySearchHit, InMemoryMemoryStoreOptions } from './memory_store.js';
export { MEMORY_SCOPES, scopeNamespace, scopeOf, visibleNamespaces, type MemoryOwner, type MemoryScopeKind } from './memory_scope.js';
export { htmlToText } from './web_fetch.js';
