/**
 * ToolRegistry: the tools an agent may call, and the one door they are called
 * through. Every call goes:
 *
 *   lookup (NOT_FOUND) ─► policy (FORBIDDEN) ─► schema (INVALID_REQUEST + path)
 *     ─► run with signal + deadline (TIMEOUT) ─► clamp output ─► screen + wrap if untrusted
 *
 * A tool that ignores its signal cannot hold the caller: the call settles at the
 * deadline whatever the tool does. Tools that may truly hang (CPU loops,
 * untrusted code) run in a TaskPool (see isolated.ts), where the deadline also
 * kills the worker.
 */
import { currentContext, withContext } from '../observability/tracing.js';
import type { Screener } from '../security/injection.js';
import { ToolError, toToolError } from './errors.js';
import { DEFAULT_MAX_OUTPUT_CHARS, clampResult, markUntrusted } from './output.js';
import { ToolPolicy } from './policy.js';
import { validate } from './schema.js';
import type { InvokeContext, JsonSchema, ToolContext, ToolDefinition, ToolResult } from './types.js';

/** The shape providers take (structurally the same as providers' ToolSpec). */
export interface ToolSpecLike {
  readonly name: string;
  readonly description: string;
  readonly parameters: JsonSchema;
}

export interface ToolRegistryOptions {
  /** Applies to every list and call; a call may narrow it further. */
  policy?: ToolPolicy;
  /** Per-call deadline when neither the tool nor the caller sets one (default 30 s). */
  defaultTimeoutMs?: number;
  /** Longest content handed back, characters (default 64 Ki). */
  maxOutputChars?: number;
  /** Most tools held (default 1024). */
  maxTools?: number;
  /** Screens untrusted output before it is wrapped; with action 'block' a match fails the call (FORBIDDEN). */
  screener?: Screener;
}

export interface CallOptions {
  /** A session's own policy, applied on top of the registry's. */
  policy?: ToolPolicy;
}

export const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
export const DEFAULT_TOOL_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_TOOLS = 1024;
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/**
 * The registry's own timer fires this long after a call's deadline. A tool
 * that keeps its deadline (TaskPool, exec, safeFetch all take ctx.timeoutMs)
 * reports its own, more precise error first; the grace only catches the ones
 * that ignore it.
 */
export const DEADLINE_GRACE_MS = 250;

function checkPositiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_TIMEOUT_MS) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

export class ToolRegistry {
  readonly #tools = new Map<string, ToolDefinition>();
  readonly #policy: ToolPolicy;
  readonly #defaultTimeoutMs: number;
  readonly #maxOutputChars: number;
  readonly #maxTools: number;
  readonly #screener?: Screener;
  readonly #listeners = new Set<() => void>();

  constructor(options: ToolRegistryOptions = {}) {
    this.#policy = options.policy ?? new ToolPolicy();
    this.#defaultTimeoutMs = checkPositiveInt('defaultTimeoutMs', options.defaultTimeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS);
    this.#maxOutputChars = checkPositiveInt('maxOutputChars', options.maxOutputChars ?? DEFAULT_MAX_OUTPUT_CHARS);
    this.#maxTools = checkPositiveInt('maxTools', options.maxTools ?? DEFAULT_MAX_TOOLS);
    this.#screener = options.screener;
  }

  /**
   * Adds a tool. This is also the hook for tools whose handler another layer
   * supplies (the agent layer's spawn_agent, sessions_list): it builds a
   * ToolDefinition around its own function and registers it here.
   * Throws INVALID_REQUEST for a bad name or a name in use (unless `replace`),
   * OVERLOADED when the registry is full.
   */
  register(tool: ToolDefinition, options: { replace?: boolean } = {}): void {
    if (!TOOL_NAME.test(tool.name)) throw new ToolError('INVALID_REQUEST', 'bad_tool_name', `tool name '${tool.name}' must match ${TOOL_NAME}`);
    if (typeof tool.run !== 'function') throw new ToolError('INVALID_REQUEST', 'bad_tool', `tool ${tool.name} has no run function`);
    if (tool.parameters === null || typeof tool.parameters !== 'object' || Array.isArray(tool.parameters)) {
      throw new ToolError('INVALID_REQUEST', 'bad_tool', `tool ${tool.name} needs a JSON Schema object as parameters`);
    }
    if (tool.timeoutMs !== undefined) checkPositiveInt(`${tool.name}.timeoutMs`, tool.timeoutMs);
    const exists = this.#tools.has(tool.name);
    if (exists && options.replace !== true) throw new ToolError('INVALID_REQUEST', 'duplicate_tool', `tool ${tool.name} is already registered`);
    if (!exists && this.#tools.size >= this.#maxTools) throw new ToolError('OVERLOADED', 'registry_full', `registry holds ${this.#maxTools} tools already`);
    this.#tools.set(tool.name, tool);
    this.#changed();
  }

  /** Returns whether the tool was there. */
  unregister(name: string): boolean {
    const removed = this.#tools.delete(name);
    if (removed) this.#changed();
    return removed;
  }

  get(name: string): ToolDefinition | undefined {
    return this.#tools.get(name);
  }

  get size(): number {
    return this.#tools.size;
  }

  /** Tools the policies allow, in registration order. */
  list(options: CallOptions = {}): ToolDefinition[] {
    return [...this.#tools.values()].filter((tool) => this.#refusal(tool, options.policy) === null);
  }

  /** What to put in a provider request's `tools`. */
  toSpecs(options: CallOptions = {}): ToolSpecLike[] {
    return this.list(options).map((tool) => ({ name: tool.name, description: tool.description, parameters: tool.parameters }));
  }

  /** Called after every register/unregister (e.g. to refresh a cached spec list). Returns an unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Runs a tool. Resolves with its (clamped, possibly wrapped) result, or
   * rejects with a ToolError: NOT_FOUND, FORBIDDEN, INVALID_REQUEST (with
   * `path`), TIMEOUT, UNAVAILABLE (caller aborted, or the tool's backend is
   * down) or INTERNAL.
   */
  async invoke(name: string, args: unknown, ctx: InvokeContext, options: CallOptions = {}): Promise<ToolResult> {
    const tool = this.#tools.get(name);
    if (tool === undefined) throw new ToolError('NOT_FOUND', 'unknown_tool', `no tool named '${name}'`);
    const refusal = this.#refusal(tool, options.policy);
    if (refusal !== null) throw new ToolError('FORBIDDEN', `policy_${refusal}`, `tool ${name} is not allowed here (${refusal})`);
    const input = args ?? {};
    const issues = validate(tool.parameters, input);
    if (issues.length > 0) {
      const detail = issues.map((i) => `${i.path} ${i.message}`).join('; ');
      throw new ToolError('INVALID_REQUEST', 'invalid_arguments', `bad arguments for ${name}: ${detail}`, { path: issues[0].path });
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new ToolError('INVALID_REQUEST', 'invalid_arguments', `arguments for ${name} must be an object`, { path: '$' });
    }
    const timeoutMs = Math.min(tool.timeoutMs ?? this.#defaultTimeoutMs, ctx.timeoutMs ?? Infinity);
    const result = await this.#runWithDeadline(tool, input as Record<string, unknown>, ctx, timeoutMs);
    const clamped = clampResult(result, this.#maxOutputChars);
    try {
      return markUntrusted(clamped, `tool:${name}`, this.#screener);
    } catch (err) {
      throw toToolError(err, name);
    }
  }

  #refusal(tool: ToolDefinition, extra?: ToolPolicy): string | null {
    return this.#policy.refusal(tool) ?? extra?.refusal(tool) ?? null;
  }

  async #runWithDeadline(tool: ToolDefinition, args: Record<string, unknown>, ctx: InvokeContext, timeoutMs: number): Promise<ToolResult> {
    const controller = new AbortController();
    const callerSignal = ctx.signal;
    let settle: ((err: ToolError) => void) | undefined;
    const stopped = new Promise<never>((_resolve, reject) => {
      settle = reject;
    });
    const stop = (err: ToolError): void => {
      controller.abort(err);
      settle?.(err);
    };
    const onAbort = (): void => stop(new ToolError('UNAVAILABLE', 'aborted', `call to ${tool.name} was aborted by the caller`, { cause: callerSignal?.reason }));
    const onTimeout = (): void => stop(new ToolError('TIMEOUT', 'tool_timeout', `tool ${tool.name} timed out after ${timeoutMs} ms`));
    const timer = setTimeout(onTimeout, timeoutMs + DEADLINE_GRACE_MS);
    if (callerSignal?.aborted === true) onAbort();
    callerSignal?.addEventListener('abort', onAbort, { once: true });
    const toolCtx: ToolContext = {
      signal: controller.signal, sessionId: ctx.sessionId, tenant: ctx.tenant, workspaceDir: ctx.workspaceDir, timeoutMs,
      ...(ctx.agentId === undefined ? {} : { agentId: ctx.agentId }),
      ...(ctx.teamId === undefined ? {} : { teamId: ctx.teamId }),
    };
    try {
      // The call's trace context (a tool call's span) holds for the tool's synchronous start, where a tool of
      // ours reads it (web_fetch's traceparent), though the run begins a microtask later.
      const trace = currentContext();
      const running = controller.signal.aborted ? stopped : Promise.resolve().then(() => withContext(trace, () => tool.run(args, toolCtx)));
      // A tool that ignores its signal keeps running, but its late result or error is dropped here.
      running.catch(() => undefined);
      const result = await Promise.race([running, stopped]);
      if (result === null || typeof result !== 'object' || typeof result.content !== 'string') {
        throw new ToolError('INTERNAL', 'bad_tool_result', `tool ${tool.name} returned no content string`);
      }
      return result;
    } catch (err) {
      // Once stopped, the stop reason wins over whatever the tool threw on abort.
      if (controller.signal.aborted && controller.signal.reason instanceof ToolError) throw controller.signal.reason;
      throw toToolError(err, tool.name);
    } finally {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onAbort);
      stopped.catch(() => undefined);
    }
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}
