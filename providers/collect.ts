// Folds a stream into the finished reply: text joined, tool-call pieces
// reassembled by index into whole calls. For callers that do not need the
// deltas (tests, summaries, non-streaming clients).

import type { StopReason, StreamEvent, ToolCall, UsageEvent } from './types.js';

/** More parallel tool calls than this in one reply is treated as a broken stream. */
export const MAX_TOOL_CALLS = 256;

export interface CollectedReply {
  readonly text: string;
  readonly toolCalls: readonly ToolCall[];
  readonly usage?: UsageEvent;
  readonly stopReason?: StopReason;
  readonly events: number;
}

export async function collectStream(stream: AsyncIterable<StreamEvent>): Promise<CollectedReply> {
  let text = '';
  let usage: UsageEvent | undefined;
  let stopReason: StopReason | undefined;
  let events = 0;
  const calls: { id: string; name: string; arguments: string }[] = [];
  for await (const event of stream) {
    events++;
    switch (event.type) {
      case 'text':
        text += event.delta;
        break;
      case 'tool_call': {
        if (!Number.isInteger(event.index) || event.index < 0 || event.index >= MAX_TOOL_CALLS) {
          throw new RangeError(`tool call index ${event.index} is outside 0..${MAX_TOOL_CALLS - 1}`);
        }
        const call = (calls[event.index] ??= { id: '', name: '', arguments: '' });
        if (event.id) call.id = event.id;
        if (event.name) call.name = event.name;
        call.arguments += event.argumentsDelta;
        break;
      }
      case 'usage':
        usage = event;
        break;
      case 'stop':
        stopReason = event.reason;
        break;
    }
  }
  return {
    text,
    toolCalls: calls.filter((call) => call !== undefined),
    ...(usage ? { usage } : {}),
    ...(stopReason ? { stopReason } : {}),
    events,
  };
}
