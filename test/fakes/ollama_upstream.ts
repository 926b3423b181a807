// A fake Ollama upstream: `POST /api/chat` answered as NDJSON, one JSON object
// per line with `message` and `done:false`, tool calls as whole
// `message.tool_calls[].function{name, arguments(object)}`, and a closing
// `done:true` line carrying done_reason, prompt_eval_count and eval_count.
// Errors are `{"error":"..."}` bodies, as Ollama sends them. `POST /api/embed`
// answers with embeddings (embeddings.ts).

import { textChunks, toolCallId, usageOf, withStreamError, type ScriptedReply } from './script.js';
import { ollamaEmbeddings } from './embeddings.js';
import { FakeUpstream, type Rendered } from './upstream.js';

interface OllamaBody {
  readonly model?: string;
  readonly stream?: boolean;
}

export class OllamaUpstream extends FakeUpstream {
  protected render(url: string, raw: unknown, reply: ScriptedReply): Rendered | undefined {
    const path = url.split('?')[0];
    if (path !== '/api/chat' && path !== '/api/embed') return undefined;
    if (reply.status !== undefined && reply.status >= 300) {
      const message = reply.errorMessage ?? `scripted failure ${reply.status}`;
      return { status: reply.status, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ error: message }) };
    }
    if (path === '/api/embed') return ollamaEmbeddings(raw);
    const model = (raw as OllamaBody | undefined)?.model ?? 'llama-fake';
    return { status: 200, contentType: 'application/x-ndjson', frames: lines(model, reply) };
  }
}

function lines(model: string, reply: ScriptedReply): string[] {
  const line = (fields: object): string => `${JSON.stringify({ model, created_at: new Date().toISOString(), ...fields })}\n`;
  const out = reply.thinking ? [line({ message: { role: 'assistant', content: '', thinking: reply.thinking }, done: false })] : [];
  for (const content of textChunks(reply)) out.push(line({ message: { role: 'assistant', content }, done: false }));
  if (reply.toolCalls?.length) {
    const tool_calls = reply.toolCalls.map((call, index) => ({
      id: toolCallId(call, index, 'call_'),
      function: { index, name: call.name, arguments: call.arguments },
    }));
    out.push(line({ message: { role: 'assistant', content: '', tool_calls }, done: false }));
  }
  const usage = usageOf(reply);
  out.push(
    line({
      message: { role: 'assistant', content: '' },
      done: true,
      done_reason: reply.finish === 'length' ? 'length' : 'stop',
      total_duration: 1_000_000,
      load_duration: 100_000,
      prompt_eval_count: usage.input,
      prompt_eval_duration: 200_000,
      eval_count: usage.output,
      eval_duration: 700_000,
    }),
  );
  return withStreamError(out, reply, (_type, message) => `${JSON.stringify({ error: message })}\n`);
}
