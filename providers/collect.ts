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

/**
 * Folds events one at a time, for callers that also act on each event as it
 * arrives (an agent forwards text deltas while it collects the reply).
 */
export class ReplyCollector {
  private text = '';
  private usage: UsageEvent | undefined;
  private stopReason: StopReason | undefined;
  private events = 0;
  private readonly calls: { id: string; name: string; arguments: string }[] = [];

  add(event: StreamEvent): void {
    this.events++;
    switch (event.type) {
      case 'text':
        this.text += event.delta;
        break;
      case 'tool_call': {
        if (!Number.isInteger(event.index) || event.index < 0 || event.index >= MAX_TOOL_CALLS) {
          throw new RangeError(`tool call index ${event.index} is outside 0..${MAX_TOOL_CALLS - 1}`);
        }
        const call = (this.calls[event.index] ??= { id: '', name: '', arguments: '' });
        if (event.id) call.id = event.id;
        if (event.name) call.name = event.name;
        call.arguments += event.argumentsDelta;
        break;
      }
      case 'usage':
        this.usage = event;
        break;
      case 'stop':
        this.stopReason = event.reason;
        break;
    }
  }

  reply(): CollectedReply {
    return {
      text: this.text,
      toolCalls: this.calls.filter((call) => call !== undefined),
      ...(this.usage ? { usage: this.usage } : {}),
      ...(this.stopReason ? { stopReason: this.stopReason } : {}),
      events: this.events,
    };
  }
}

export async function collectStream(stream: AsyncIterable<StreamEvent>): Promise<CollectedReply> {
  const collector = new ReplyCollector();
  for await (const event of stream) collector.add(event);
  return collector.reply();
}
