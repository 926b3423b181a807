/**
 * ToolError: the one error every tool call fails with. `code` comes from the
 * project-wide catalogue (what the caller tells the client or the model),
 * `reason` is a finer, stable detail for logs and metrics, and `path` names the
 * offending argument for INVALID_REQUEST.
 */
import type { ToolResult } from './types.js';

export type ToolErrorCode =
  | 'INVALID_REQUEST'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'TIMEOUT'
  | 'UNAVAILABLE'
  | 'OVERLOADED'
  | 'PAYLOAD_TOO_LARGE'
  | 'INTERNAL';

const CODES: ReadonlySet<string> = new Set<ToolErrorCode>([
  'INVALID_REQUEST', 'NOT_FOUND', 'FORBIDDEN', 'TIMEOUT', 'UNAVAILABLE', 'OVERLOADED', 'PAYLOAD_TOO_LARGE', 'INTERNAL',
]);

/** Codes a caller may retry after a while: the tool may work later. */
const RETRYABLE: ReadonlySet<ToolErrorCode> = new Set<ToolErrorCode>(['UNAVAILABLE', 'OVERLOADED']);

export interface ToolErrorOptions {
  /** JSON path of the bad argument, e.g. `$.items[2].name`. */
  path?: string;
  cause?: unknown;
}

export class ToolError extends Error {
  readonly code: ToolErrorCode;
  readonly reason: string;
  readonly path?: string;
  readonly retryable: boolean;

  constructor(code: ToolErrorCode, reason: string, message: string, options: ToolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ToolError';
    this.code = code;
    this.reason = reason;
    if (options.path !== undefined) this.path = options.path;
    this.retryable = RETRYABLE.has(code);
  }

  /** What the model sees when a call fails: short, with the code, never a stack. */
  toResult(): ToolResult {
    return { content: `error ${this.code} (${this.reason}): ${this.message}`, isError: true };
  }
}

export function isToolErrorCode(value: unknown): value is ToolErrorCode {
  return typeof value === 'string' && CODES.has(value);
}

/**
 * Maps anything a tool threw to a ToolError. Errors from Troupe's other
 * libraries (security/, runtime/) already carry a catalogue `code` and a
 * `reason`; those are kept. Anything else is INTERNAL.
 */
export function toToolError(err: unknown, tool: string): ToolError {
  if (err instanceof ToolError) return err;
  const e = err as { code?: unknown; reason?: unknown; message?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (isToolErrorCode(e?.code)) {
    const reason = typeof e?.reason === 'string' ? e.reason : 'tool_failed';
    return new ToolError(e.code, reason, message, { cause: err });
  }
  return new ToolError('INTERNAL', 'tool_failed', `tool ${tool} failed: ${message}`, { cause: err });
}
