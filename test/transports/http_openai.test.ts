import t from 'tap';
import OpenAI from 'openai';
import { request as httpRequest } from 'node:http';
import { TestBucket } from './fakes.js';
import { start, within, type Started } from './harness.js';

function sdk(s: Started, apiKey = 'tok-alice'): OpenAI {
  return new OpenAI({ apiKey, baseURL: `${s.httpUrl}/v1`, maxRetries: 0, timeout: 10_000 });
}

function post(s: Started, body: string, headers: Record<string, string> = { authorization: 'Bearer tok-alice' }): Promise<Response> {
  return fetch(`${s.httpUrl}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

const chat = (extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ model: 'echo', messages: [{ role: 'system', content: 'be nice' }, { role: 'user', content: 'hello' }], ...extra });

t.test('openai SDK non-streaming completion returns chat.completion with usage', async (t) => {
  const s = await start(t);
  const completion = await sdk(s).chat.completions.create({
    model: 'echo',
    messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: 'hello there' }],
  });
  t.equal(completion.object, 'chat.completion');
  t.match(completion.id, /^chatcmpl-run-/);
  t.equal(completion.choices[0].message.content, 'tok tok tok ');
  t.equal(completion.choices[0].finish_reason, 'stop');
  t.same(completion.usage, { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 });
  t.match(s.backend.sent[0].params, { agent: 'echo', message: 'hello there' });
});

t.test('openai SDK streaming yields role, deltas, finish_reason and ends', async (t) => {
  const s = await start(t);
  s.backend.deltaCount = 5;
  const stream = await sdk(s).chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'hi' }], stream: true });
  let text = '';
  const finish: (string | null)[] = [];
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    t.equal(chunk.object, 'chat.completion.chunk');
    text += chunk.choices[0]?.delta.content ?? '';
    finish.push(chunk.choices[0]?.finish_reason ?? null);
  }
  t.equal(text, 'tok '.repeat(5));
  t.equal(chunks, 7, 'role chunk + 5 deltas + finish chunk');
  t.equal(finish.at(-1), 'stop');
});

t.test('stream_options.include_usage adds a final usage chunk with empty choices', async (t) => {
  const s = await start(t);
  const stream = await sdk(s).chat.completions.create({
    model: 'echo', messages: [{ role: 'user', content: 'abcd' }], stream: true, stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  const last = chunks.at(-1);
  t.same(last?.choices, []);
  t.same(last?.usage, { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 });
});

t.test('raw SSE ends with data: [DONE]', async (t) => {
  const s = await start(t);
  const res = await post(s, chat({ stream: true }));
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /text\/event-stream/);
  const text = await res.text();
  t.match(text, /data: \[DONE\]\n\n$/);
});

t.test('X-Troupe-Session-Key continues the given session', async (t) => {
  const s = await start(t);
  t.equal((await post(s, chat(), { authorization: 'Bearer tok-alice', 'x-troupe-session-key': 'alice:work' })).status, 200);
  t.equal(s.backend.sent[0].params.sessionKey, 'alice:work');
});

t.test('events emitted before chatSend resolves are streamed after the role chunk', async (t) => {
  const s = await start(t);
  s.backend.emitBeforeAccept = true;
  const stream = await sdk(s).chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'hi' }], stream: true });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  t.equal(text, 'early tok tok tok ');
});

t.test('GET /v1/models lists agents as models', async (t) => {
  const s = await start(t);
  const models = await sdk(s).models.list();
  t.same(models.data.map((m) => m.id), ['echo', 'helper']);
  t.equal(models.data[0].object, 'model');
});

t.test('a missing bearer token is 401 in OpenAI error shape with our code', async (t) => {
  const s = await start(t);
  const res = await post(s, chat(), {});
  t.equal(res.status, 401);
  t.match(await res.json(), { error: { code: 'UNAUTHORIZED', type: 'authentication_error', message: String } });
});

t.test('the SDK surfaces a bad key as AuthenticationError', async (t) => {
  const s = await start(t);
  await t.rejects(sdk(s, 'wrong').chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'x' }] }), {
    status: 401,
    code: 'UNAUTHORIZED',
  });
});

t.test('malformed JSON is 400 INVALID_REQUEST', async (t) => {
  const s = await start(t);
  const res = await post(s, '{"model":');
  t.equal(res.status, 400);
  t.match(await res.json(), { error: { code: 'INVALID_REQUEST', reason: 'malformed_json', type: 'invalid_request_error' } });
});

t.test('an empty body is 400 malformed_json', async (t) => {
  const s = await start(t);
  const res = await post(s, '');
  t.equal(res.status, 400);
  t.match(await res.json(), { error: { reason: 'malformed_json' } });
});

t.test('a request without a user message is 400 naming messages', async (t) => {
  const s = await start(t);
  const res = await post(s, JSON.stringify({ model: 'echo', messages: [{ role: 'system', content: 'x' }] }));
  t.equal(res.status, 400);
  t.match(await res.json(), { error: { param: 'messages', reason: 'field_required' } });
});

t.test('an unknown model is 404 from the backend', async (t) => {
  const s = await start(t);
  const res = await post(s, JSON.stringify({ model: 'missing', messages: [{ role: 'user', content: 'x' }] }));
  t.equal(res.status, 404);
  t.match(await res.json(), { error: { code: 'NOT_FOUND' } });
});

t.test('a body above maxPayloadBytes is 413 PAYLOAD_TOO_LARGE', async (t) => {
  const s = await start(t, { config: { maxPayloadBytes: 2048 } });
  const res = await post(s, chat({ padding: 'p'.repeat(5000) }));
  t.equal(res.status, 413);
  t.match(await res.json(), { error: { code: 'PAYLOAD_TOO_LARGE' } });
});

t.test('deeply nested JSON bodies are 400 too_deep', async (t) => {
  const s = await start(t);
  const res = await post(s, `{"model":"echo","x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
  t.equal(res.status, 400);
  t.match(await res.json(), { error: { reason: 'too_deep' } });
});

t.test('over the chat limit the API answers 429 with Retry-After', async (t) => {
  const s = await start(t, { chat: new TestBucket(1, 0.25) });
  t.equal((await post(s, chat())).status, 200);
  const res = await post(s, chat());
  t.equal(res.status, 429);
  t.equal(res.headers.get('retry-after'), '4');
  t.match(await res.json(), { error: { code: 'RATE_LIMITED', type: 'rate_limit_error', retryAfterMs: Number } });
});

t.test('a client that disconnects mid-stream aborts its run', async (t) => {
  const s = await start(t);
  s.backend.deltaCount = 1000;
  s.backend.delayMs = 10;
  const body = chat({ stream: true });
  await within(new Promise<void>((resolve, reject) => {
    const req = httpRequest(`${s.httpUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer tok-alice', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', (e) => { if (!req.destroyed) reject(e); });
    req.end(body);
  }), 5000, 'first SSE chunk');
  const deadline = Date.now() + 5000;
  while (s.backend.aborts.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.same(s.backend.aborts, ['run-1']);
});

t.test('a backend chat.error mid-stream becomes an SSE error event', async (t) => {
  const s = await start(t);
  s.backend.deltaCount = 1000;
  s.backend.delayMs = 5;
  s.backend.failAfterDeltas = 3;
  const res = await post(s, chat({ stream: true }));
  const reader = res.body?.getReader();
  t.ok(reader);
  await reader?.read();
  let text = '';
  const decoder = new TextDecoder();
  for (let i = 0; i < 10_000; i++) {
    const r = await (reader as ReadableStreamDefaultReader<Uint8Array>).read();
    if (r.done) break;
    text += decoder.decode(r.value);
  }
  t.match(text, /data: \{"error":\{"message":"run failed","type":"server_error","code":"UNAVAILABLE"/);
  t.notMatch(text, /\[DONE\]/);
});

t.test('a stateless request hands the whole conversation and the client tools to the backend', async (t) => {
  const s = await start(t);
  const tool = { type: 'function', function: { name: 'lookup', description: 'd', parameters: { type: 'object', properties: {} } } };
  const res = await post(s, JSON.stringify({
    model: 'echo',
    tools: [tool, { type: 'function', function: { name: 'bare' } }],
    messages: [
      { role: 'developer', content: 'be brief' },
      { role: 'user', content: [{ type: 'text', text: 'find ' }, { type: 'text', text: 'it' }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{"q":1}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'found' },
    ],
  }));
  t.equal(res.status, 200);
  t.match(s.backend.sent[0].params, {
    stateless: true,
    message: 'find it',
    conversation: [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'find it' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'lookup', arguments: '{"q":1}' }] },
      { role: 'tool', toolCallId: 'c1', content: 'found' },
    ],
    tools: [
      { name: 'lookup', description: 'd', parameters: { type: 'object', properties: {} } },
      { name: 'bare', description: '', parameters: { type: 'object', properties: {} } },
    ],
  });
});

t.test('a session-keyed request sends only the last user message', async (t) => {
  const s = await start(t);
  const res = await post(s, chat(), { authorization: 'Bearer tok-alice', 'x-troupe-session-key': 'keep' });
  t.equal(res.status, 200);
  t.equal(s.backend.sent[0].params.message, 'hello');
  t.equal(s.backend.sent[0].params.conversation, undefined);
  t.equal(s.backend.sent[0].params.tools, undefined);
});

t.test('bad tools, tool_choice and messages are 400s naming the field; the server keeps serving', async (t) => {
  const s = await start(t);
  const fn = (f: Record<string, unknown>): Record<string, unknown> => ({ type: 'function', function: { name: 'ok_name', ...f } });
  const cases: [string, Record<string, unknown>, string, string][] = [
    ['tools not an array', { tools: {} }, 'tools', 'field_type'],
    ['too many tools', { tools: Array.from({ length: 129 }, (_, i) => fn({ name: `t${i}` })) }, 'tools', 'field_type'],
    ['not a function tool', { tools: [{ type: 'retrieval' }] }, 'tools[0]', 'field_type'],
    ['bad tool name', { tools: [fn({ name: 'has space' })] }, 'tools[0].function.name', 'field_type'],
    ['duplicate tool', { tools: [fn({}), fn({})] }, 'tools[1].function.name', 'duplicate_tool'],
    ['parameters not an object', { tools: [fn({ parameters: 'x' })] }, 'tools[0].function.parameters', 'field_type'],
    ['description not a string', { tools: [fn({ description: 7 })] }, 'tools[0].function.description', 'field_type'],
    ['bad tool_choice', { tool_choice: 'sometimes' }, 'tool_choice', 'field_type'],
    ['unknown role', { messages: [{ role: 'function', content: 'x' }, { role: 'user', content: 'hi' }] }, 'messages[0].role', 'unsupported_role'],
    ['tool message without id', { messages: [{ role: 'user', content: 'hi' }, { role: 'tool', content: 'x' }] }, 'messages[1].tool_call_id', 'field_type'],
    ['bad tool_calls', { messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', tool_calls: [{ id: 'x' }] }] }, 'messages[1].tool_calls[0]', 'field_type'],
    ['arguments not a string', {
      messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', tool_calls: [{ id: 'x', type: 'function', function: { name: 'n', arguments: {} } }] }],
    }, 'messages[1].tool_calls[0].function.arguments', 'field_type'],
  ];
  for (const [name, extra, param, reason] of cases) {
    const res = await post(s, chat(extra));
    t.equal(res.status, 400, `${name}: 400`);
    t.match(await res.json(), { error: { code: 'INVALID_REQUEST', param, reason } }, `${name}: names ${param}`);
  }
  const withSession = await post(s, chat({ tools: [fn({})] }), { authorization: 'Bearer tok-alice', 'x-troupe-session-key': 'k' });
  t.equal(withSession.status, 400);
  t.match(await withSession.json(), { error: { param: 'tools', reason: 'tools_need_stateless' } });
  t.equal(s.backend.sent.length, 0, 'none of them reached the backend');
  t.equal((await post(s, chat())).status, 200, 'still serving');
});

t.test('a tool-call final becomes tool_calls in the completion and in the stream', async (t) => {
  const s = await start(t);
  const calls = [{ id: 'c9', name: 'lookup', arguments: '{"q":"x"}' }];
  s.backend.deltaCount = 0;
  s.backend.finalPatch = { stopReason: 'tool_calls', toolCalls: calls };
  const tools = [{ type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } }];
  const done = await sdk(s).chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'q' }], tools });
  t.equal(done.choices[0].finish_reason, 'tool_calls');
  t.same(done.choices[0].message.tool_calls, [{ id: 'c9', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }]);
  const stream = await sdk(s).chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'q' }], tools, stream: true });
  const deltas: unknown[] = [];
  let finish: string | null = null;
  for await (const chunk of stream) {
    deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  t.same(deltas, [{ index: 0, id: 'c9', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }]);
  t.equal(finish, 'tool_calls');
});
