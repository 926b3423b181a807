/**
 * Tools whose code runs on the runtime's TaskPool (piscina worker threads)
 * instead of the caller's thread: CPU-heavy or untrusted JavaScript. The
 * call's deadline and abort reach the pool, which terminates the worker, so a
 * `while (true) {}` costs one worker for `timeoutMs` and nothing else.
 *
 * The task module exports a function taking `{ args, ctx }` (plain data: the
 * AbortSignal cannot cross threads) and returning a ToolResult or a string.
 *
 * Shell commands do not come here: a command is already its own process (see
 * builtin/exec.ts); a worker thread would only add a thread to wait on it.
 */
import type { TaskPool } from '../runtime/tasks.js';
import { ToolError, toToolError } from './errors.js';
import type { JsonSchema, ToolDefinition, ToolResult } from './types.js';

/** What the task function receives. */
export interface IsolatedToolInput {
  args: Record<string, unknown>;
  ctx: { sessionId: string; tenant: string; workspaceDir: string; timeoutMs: number };
}

export interface IsolatedToolSpec {
  name: string;
  description: string;
  parameters: JsonSchema;
  readOnly: boolean;
  group?: string;
  timeoutMs?: number;
  /** File URL of the ES module holding the tool's code. */
  module: string;
  /** Export to call (default 'default'). */
  export?: string;
}

function asResult(value: unknown, name: string): ToolResult {
  if (typeof value === 'string') return { content: value };
  if (value !== null && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') return value as ToolResult;
  throw new ToolError('INTERNAL', 'bad_tool_result', `isolated tool ${name} returned neither a string nor { content }`);
}

/**
 * Builds a ToolDefinition that runs `spec.module` on `pool` for every call.
 * `pool` may be a function, called at the first call: the pool (and its
 * threads) then exists only once a tool needs it.
 */
export function isolatedTool(spec: IsolatedToolSpec, pool: TaskPool | (() => TaskPool)): ToolDefinition {
  const task = { module: spec.module, export: spec.export ?? 'default' };
  const poolNow = typeof pool === 'function' ? pool : () => pool;
  return {
    name: spec.name,
    description: spec.description,
    parameters: spec.parameters,
    readOnly: spec.readOnly,
    group: spec.group,
    timeoutMs: spec.timeoutMs,
    async run(args, ctx) {
      const input: IsolatedToolInput = {
        args,
        ctx: { sessionId: ctx.sessionId, tenant: ctx.tenant, workspaceDir: ctx.workspaceDir, timeoutMs: ctx.timeoutMs },
      };
      try {
        const value = await poolNow().run({ ...task, args: input }, { timeoutMs: ctx.timeoutMs, signal: ctx.signal });
        return asResult(value, spec.name);
      } catch (err) {
        throw toToolError(err, spec.name);
      }
    },
  };
}
