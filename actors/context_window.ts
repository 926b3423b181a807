/**
 * Context window management: estimate tokens and, when the history would not
 * fit, replace the oldest turns with a summary. A tool call and its results are
 * one unit: the cut never falls between an assistant message that calls tools
 * and the tool messages that answer it.
 */
import type { ChatMessage } from '../providers/index.js';

/** A rough token estimate: ~4 characters per token, plus a little per message. */
export function estimateTokens(messages: readonly ChatMessage[]): number {
  let chars = 0;
  for (const m of messages) {
    chars += 16;
    if (typeof m.content === 'string') chars += m.content.length;
    else for (const p of m.content) chars += p.text.length;
    if (m.role === 'assistant' && m.toolCalls) for (const c of m.toolCalls) chars += c.name.length + c.arguments.length;
  }
  return Math.ceil(chars / 4);
}

/** Index where a new unit (a turn that is safe to cut before) starts. */
function unitStarts(messages: readonly ChatMessage[]): number[] {
  const starts: number[] = [];
  for (let i = 0; i < messages.length; i++) {
    if (messages[i].role !== 'tool') starts.push(i);
  }
  return starts;
}

export interface CompactionPlan {
  /** Messages to summarise (oldest, never including the system prompt). */
  older: ChatMessage[];
  /** Messages kept verbatim after the summary. */
  recent: ChatMessage[];
}

/**
 * Plans a compaction so that the system prompt, a summary (about
 * `summaryTokens`) and the recent turns fit `budget`. Returns null when
 * everything fits already.
 */
export function planCompaction(messages: readonly ChatMessage[], budget: number, summaryTokens = 256): CompactionPlan | null {
  if (estimateTokens(messages) <= budget) return null;
  const system = messages[0]?.role === 'system' ? 1 : 0;
  const body = messages.slice(system);
  const starts = unitStarts(body);
  const fixed = estimateTokens(messages.slice(0, system)) + summaryTokens;
  // Keep as many whole units from the end as fit; always keep at least the last unit.
  let cut = starts[starts.length - 1] ?? 0;
  for (let k = starts.length - 1; k >= 0; k--) {
    if (fixed + estimateTokens(body.slice(starts[k])) > budget) break;
    cut = starts[k];
  }
  if (cut === 0) return null;
  return { older: body.slice(0, cut), recent: body.slice(cut) };
}

/** A summary written without a model: the first words of each older message. */
export function extractiveSummary(older: readonly ChatMessage[], maxChars = 1_000): string {
  const lines: string[] = [];
  let used = 0;
  for (const m of older) {
    const text = typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join(' ');
    const line = `${m.role}: ${text.slice(0, 160)}`;
    if (used + line.length > maxChars) break;
    lines.push(line);
    used += line.length;
  }
  return lines.join('\n');
}
