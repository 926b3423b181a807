/**
 * Shapes what a tool returns before the model sees it: the size clamp and
 * the untrusted-content wrapping. Clamping happens first so the wrapper's
 * closing tag can never be cut off.
 */
import { wrapUntrusted } from '../security/injection.js';
import type { Screener } from '../security/injection.js';
import type { ToolResult } from './types.js';

export const DEFAULT_MAX_OUTPUT_CHARS = 64 * 1024;

/** Cuts `content` to `maxChars` and says so, in the text and in `truncated`. */
export function clampResult(result: ToolResult, maxChars: number): ToolResult {
  if (result.content.length <= maxChars) return result;
  const note = `\n[output truncated: ${maxChars} of ${result.content.length} characters shown]`;
  return { ...result, content: result.content.slice(0, maxChars) + note, truncated: true };
}

/**
 * Screens untrusted content and wraps it in delimiters the content cannot
 * forge. The screener's action decides the rest: 'block' throws
 * InjectionError (FORBIDDEN), 'warn' puts a warning line naming what matched
 * in front of the block, 'log' changes nothing the model sees. Trusted
 * results pass through.
 */
export function markUntrusted(result: ToolResult, source: string, screener?: Screener): ToolResult {
  if (result.untrusted !== true) return result;
  const verdict = screener?.enforce(result.content, source);
  const flagged = verdict?.action === 'warn' ? verdict.matches.map((m) => m.family) : [];
  return { ...result, content: wrapUntrusted(result.content, source, { flagged }) };
}
