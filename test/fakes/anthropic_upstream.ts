// A fake Anthropic Messages upstream: `POST /v1/messages` with `stream: true`,
// answered with Anthropic's named SSE events: message_start, ping,
// content_block_start / content_block_delta (text_delta, input_json_delta) /
// content_block_stop per block, message_delta (stop_reason, usage), message_stop.
// Errors use Anthropic's `{"type":"error","error":{type,message}}` body.

import { argumentPieces, textChunks, toolCallId, usageOf, withStreamError, type ScriptedReply } from './script.js';
import { FakeUpstream, type Rendered } from './upstream.js';

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

interface AnthropicBody {
  readonly model?: string;
}

export class AnthropicUpstream extends FakeUpstream {
  private counter = 0;

  protected render(url: string, raw: unknown, reply: ScriptedReply): Rendered | undefined {
    if (url.split('?')[0] !== '/v1/messages') return undefined;
    const headers = { 'request-id': `req_fake${++this.counter}` };
    if (reply.status !== undefined && reply.status >= 300) {
      const error = { type: ERROR_TYPES[reply.status] ?? 'api_error', message: reply.errorMessage ?? `scripted failure ${reply.status}` };
      return { status: reply.status, contentType: 'application/json', headers, body: JSON.stringify({ type: 'error', error }) };
    }
    const model = (raw as AnthropicBody | undefined)?.model ?? 'claude-fake';
    return { status: 200, contentType: 'text/event-stream; charset=utf-8', headers, frames: eventFrames(`msg_fake${this.counter}`, model, reply) };
  }
}

function event(name: string, data: object): string {
  return `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
}

function eventFrames(id: string, model: string, reply: ScriptedReply): string[] {
  const usage = usageOf(reply);
  const frames = [
    event('message_start', {
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: usage.input,
          cache_creation_input_tokens: usage.cacheWrite ?? 0,
          cache_read_input_tokens: usage.cacheRead ?? 0,
          output_tokens: 1,
        },
      },
    }),
    event('ping', {}),
  ];
  let index = 0;
  if (reply.thinking) {
    frames.push(event('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } }));
    frames.push(event('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: reply.thinking } }));
    frames.push(event('content_block_delta', { index, delta: { type: 'signature_delta', signature: 'sig-fake' } }));
    frames.push(event('content_block_stop', { index }));
    index++;
  }
  const pieces = textChunks(reply);
  if (pieces.length > 0) {
    frames.push(event('content_block_start', { index, content_block: { type: 'text', text: '' } }));
    for (const text of pieces) frames.push(event('content_block_delta', { index, delta: { type: 'text_delta', text } }));
    frames.push(event('content_block_stop', { index }));
    index++;
  }
  reply.toolCalls?.forEach((call, i) => {
    const block = { type: 'tool_use', id: toolCallId(call, i, 'toolu_fake'), name: call.name, input: {} };
    frames.push(event('content_block_start', { index, content_block: block }));
    frames.push(event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } }));
    for (const partial_json of argumentPieces(call)) {
      frames.push(event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } }));
    }
    frames.push(event('content_block_stop', { index }));
    index++;
  });
  const stopReason = reply.finish === 'length' ? 'max_tokens' : reply.toolCalls?.length ? 'tool_use' : 'end_turn';
  frames.push(event('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output } }));
  frames.push(event('message_stop', {}));
  return withStreamError(frames, reply, (type, message) => event('error', { error: { type, message } }));
}
