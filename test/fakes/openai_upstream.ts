// A fake OpenAI Chat Completions upstream: `POST <any prefix>/chat/completions`,
// answered as SSE `chat.completion.chunk` frames ending in `data: [DONE]`, with
// the usage-only final chunk when `stream_options.include_usage` is set, or as
// one `chat.completion` object when `stream` is not true. The prefix is free so
// the same fake stands in for OpenAI-compatible hosts (OpenRouter, Groq, ...).
// `POST <prefix>/embeddings` answers with embeddings (embeddings.ts).
//
// Run alone for benchmarks: `node dist/test/fakes/openai_upstream.js --port 0`
// prints `{"port":N}` and serves the default reply until killed.

import { pathToFileURL } from 'node:url';
import { argumentPieces, textChunks, toolCallId, usageOf, withStreamError, type ScriptedReply } from './script.js';
import { openaiEmbeddings } from './embeddings.js';
import { FakeUpstream, portFromArgs, type Rendered } from './upstream.js';

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'invalid_request_error',
  403: 'permission_denied',
  404: 'invalid_request_error',
  429: 'rate_limit_exceeded',
};

interface OpenAIBody {
  readonly model?: string;
  readonly stream?: boolean;
  readonly stream_options?: { readonly include_usage?: boolean };
}

export class OpenAIUpstream extends FakeUpstream {
  private counter = 0;

  protected render(url: string, raw: unknown, reply: ScriptedReply): Rendered | undefined {
    const path = url.split('?')[0];
    if (path.endsWith('/embeddings')) return reply.status !== undefined && reply.status >= 300 ? errorResponse(reply) : openaiEmbeddings(raw);
    if (!path.endsWith('/chat/completions')) return undefined;
    const body = (raw ?? {}) as OpenAIBody;
    if (reply.status !== undefined && reply.status >= 300) return errorResponse(reply);
    const id = `chatcmpl-fake${++this.counter}`;
    const model = body.model ?? 'fake-model';
    if (body.stream !== true) {
      return { status: 200, contentType: 'application/json', body: JSON.stringify(completion(id, model, reply)) };
    }
    return {
      status: 200,
      contentType: 'text/event-stream; charset=utf-8',
      frames: chunkFrames(id, model, reply, body.stream_options?.include_usage === true),
    };
  }
}

function errorResponse(reply: ScriptedReply): Rendered {
  const status = reply.status ?? 500;
  const error = {
    message: reply.errorMessage ?? `scripted failure ${status}`,
    type: ERROR_TYPES[status] ?? 'server_error',
    param: null,
    code: status === 429 ? 'rate_limit_exceeded' : null,
  };
  return { status, contentType: 'application/json', body: JSON.stringify({ error }) };
}

function finishReason(reply: ScriptedReply): string {
  if (reply.finish === 'length') return 'length';
  return reply.toolCalls?.length ? 'tool_calls' : 'stop';
}

function usageBody(reply: ScriptedReply): object {
  const usage = usageOf(reply);
  return {
    prompt_tokens: usage.input,
    completion_tokens: usage.output,
    total_tokens: usage.input + usage.output,
    prompt_tokens_details: { cached_tokens: usage.cacheRead ?? 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
  };
}

function completion(id: string, model: string, reply: ScriptedReply): object {
  const toolCalls = reply.toolCalls?.map((call, i) => ({
    id: toolCallId(call, i, 'call_'),
    type: 'function',
    function: { name: call.name, arguments: JSON.stringify(call.arguments) },
  }));
  return {
    id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: reply.text ?? null, refusal: null, ...(toolCalls ? { tool_calls: toolCalls } : {}) },
        logprobs: null,
        finish_reason: finishReason(reply),
      },
    ],
    usage: usageBody(reply),
  };
}

function chunkFrames(id: string, model: string, reply: ScriptedReply, includeUsage: boolean): string[] {
  const created = Math.floor(Date.now() / 1000);
  const frame = (choices: object[], usage: object | null = null): string =>
    `data: ${JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      system_fingerprint: 'fp_fake',
      choices,
      ...(includeUsage ? { usage } : {}),
    })}\n\n`;
  const delta = (d: object, finish: string | null = null): object[] => [
    { index: 0, delta: d, logprobs: null, finish_reason: finish },
  ];

  const frames = [frame(delta({ role: 'assistant', content: '', refusal: null }))];
  for (const piece of textChunks(reply)) frames.push(frame(delta({ content: piece })));
  reply.toolCalls?.forEach((call, index) => {
    const head = { index, id: toolCallId(call, index, 'call_'), type: 'function', function: { name: call.name, arguments: '' } };
    frames.push(frame(delta({ tool_calls: [head] })));
    for (const piece of argumentPieces(call)) {
      frames.push(frame(delta({ tool_calls: [{ index, function: { arguments: piece } }] })));
    }
  });
  frames.push(frame(delta({}, finishReason(reply))));
  if (includeUsage) frames.push(frame([], usageBody(reply)));
  frames.push('data: [DONE]\n\n');
  return withStreamError(frames, reply, (type, message) => `data: ${JSON.stringify({ error: { message, type, param: null, code: null } })}\n\n`);
}

async function main(): Promise<void> {
  const fake = new OpenAIUpstream({ record: false });
  const port = await fake.start(portFromArgs(process.argv.slice(2)));
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  const stop = (): void => {
    void fake.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
}
