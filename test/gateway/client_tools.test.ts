// Client-side tools over the OpenAI-compatible API: the official `openai` SDK
// declares `tools`, the agent's model (the fake OpenAI upstream) calls them,
// and the calls come back in OpenAI's format for the client to run; the
// client's next request carries the results. The agent's own tools keep
// running server-side in the same loop.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import t, { type Test } from 'tap';
import { loadConfig } from '../../gateway/config.js';
import { startGateway, type RunningGateway as Gateway } from '../../gateway/gateway.js';
import { signToken } from '../../security/jwt.js';
import { OpenAIUpstream } from '../fakes/openai_upstream.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';

const WEATHER: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

interface UpstreamBody {
  messages: { role: string; content?: unknown; tool_call_id?: string; tool_calls?: { id: string; function: { name: string } }[] }[];
  tools?: { function: { name: string } }[];
}

async function setup(t: Test): Promise<{ fake: OpenAIUpstream; gw: Gateway; client: OpenAI; token: string }> {
  const fake = new OpenAIUpstream();
  await fake.start();
  t.teardown(() => fake.close());
  const gw = await startGateway({
    ...loadConfig({
      TROUPE_DATA_DIR: mkdtempSync(join(tmpdir(), 'troupe-client-tools-')), TROUPE_PORT: '0', TROUPE_WORKERS: '1',
      TROUPE_JWT_SECRET: SECRET, TROUPE_STORE: 'none',
    }),
    agents: [{
      id: 'helper', model: 'fake-model', systemPrompt: 'You are the operator prompt.',
      provider: { kind: 'openai', apiKey: 'sk-test', baseURL: `${fake.url}/v1` },
    }],
  });
  t.teardown(() => gw.shutdown());
  const token = await signToken({ secret: SECRET, tenant: 'acme', user: 'u', ttlSec: 600 });
  return { fake, gw, client: new OpenAI({ apiKey: token, baseURL: `${gw.url}/v1`, maxRetries: 0 }), token };
}

const bodyOf = (fake: OpenAIUpstream, i: number): UpstreamBody => fake.requests[i].body as UpstreamBody;

t.test('a client tool call comes back in OpenAI format, and its result goes on in the next request', async (t) => {
  const { fake, client } = await setup(t);
  fake.script(
    { toolCalls: [{ id: 'call_w1', name: 'get_weather', arguments: { city: 'Oslo' } }] },
    { text: 'It is sunny in Oslo.' },
  );
  const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
    { role: 'system', content: 'Answer briefly.' },
    { role: 'user', content: 'Weather in Oslo?' },
  ];
  const first = await client.chat.completions.create({ model: 'helper', messages, tools: [WEATHER] });
  const choice = first.choices[0];
  t.equal(choice.finish_reason, 'tool_calls');
  t.same(choice.message.tool_calls, [{ id: 'call_w1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }]);
  t.equal(choice.message.content, null, 'no text beside the call');

  const sent = bodyOf(fake, 0);
  const names = (sent.tools ?? []).map((x) => x.function.name);
  t.ok(names.includes('get_weather'), 'the client tool was offered to the model');
  t.ok(names.includes('datetime'), "the agent's own tools are offered too");
  t.same(sent.messages.map((m) => m.role), ['system', 'system', 'user'], "the agent's prompt first, then the client's conversation");
  t.equal(sent.messages[0].content, 'You are the operator prompt.');

  messages.push(choice.message, { role: 'tool', tool_call_id: 'call_w1', content: 'sunny, 21 C' });
  const second = await client.chat.completions.create({ model: 'helper', messages, tools: [WEATHER] });
  t.equal(second.choices[0].finish_reason, 'stop');
  t.equal(second.choices[0].message.content, 'It is sunny in Oslo.');
  t.notOk(second.choices[0].message.tool_calls, 'no tool calls on a plain answer');
  const resumed = bodyOf(fake, 1);
  t.match(resumed.messages.at(-2), { role: 'assistant', tool_calls: [{ id: 'call_w1', function: { name: 'get_weather' } }] });
  t.match(resumed.messages.at(-1), { role: 'tool', tool_call_id: 'call_w1', content: 'sunny, 21 C' });
});

t.test('streaming: tool calls arrive as tool_calls deltas and finish_reason tool_calls', async (t) => {
  const { fake, client } = await setup(t);
  fake.script({
    text: 'Let me check. ',
    toolCalls: [
      { id: 'a', name: 'get_weather', arguments: { city: 'Oslo' } },
      { id: 'b', name: 'get_weather', arguments: { city: 'Lima' } },
    ],
  });
  const stream = await client.chat.completions.create({
    model: 'helper', messages: [{ role: 'user', content: 'Oslo and Lima?' }], tools: [WEATHER], stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  const calls: { id?: string; name?: string; args: string }[] = [];
  const finishes: string[] = [];
  let usage: OpenAI.CompletionUsage | undefined | null;
  for await (const chunk of stream) {
    const c = chunk.choices[0];
    if (chunk.usage) usage = chunk.usage;
    if (c === undefined) continue;
    text += c.delta.content ?? '';
    for (const d of c.delta.tool_calls ?? []) {
      const call = (calls[d.index] ??= { args: '' });
      if (d.id) call.id = d.id;
      if (d.function?.name) call.name = d.function.name;
      call.args += d.function?.arguments ?? '';
    }
    if (c.finish_reason) finishes.push(c.finish_reason);
  }
  t.equal(text, 'Let me check. ');
  t.same(calls, [{ id: 'a', name: 'get_weather', args: '{"city":"Oslo"}' }, { id: 'b', name: 'get_weather', args: '{"city":"Lima"}' }]);
  t.same(finishes, ['tool_calls']);
  t.ok((usage?.completion_tokens ?? 0) > 0, 'usage still reported');
});

t.test("the agent's own tools run server-side first; the run ends at the client's tool", async (t) => {
  const { fake, client } = await setup(t);
  fake.script(
    { toolCalls: [{ id: 'dt', name: 'datetime', arguments: {} }] },
    { toolCalls: [{ id: 'w', name: 'get_weather', arguments: { city: 'Oslo' } }] },
  );
  const res = await client.chat.completions.create({ model: 'helper', messages: [{ role: 'user', content: 'What time and weather?' }], tools: [WEATHER] });
  t.equal(res.choices[0].finish_reason, 'tool_calls');
  t.same(res.choices[0].message.tool_calls?.map((c) => c.id), ['w'], 'only the client tool is handed back');
  t.equal(fake.requests.length, 2, 'datetime ran inside the gateway, then the model called the client tool');
  t.match(bodyOf(fake, 1).messages.at(-1), { role: 'tool', tool_call_id: 'dt' });
});

t.test('tool_choice "none" hides the client tools; a name clash and a session-keyed request are refused', async (t) => {
  const { fake, client, gw, token } = await setup(t);
  fake.script({ text: 'plain' });
  const plain = await client.chat.completions.create({ model: 'helper', messages: [{ role: 'user', content: 'hi' }], tools: [WEATHER], tool_choice: 'none' });
  t.equal(plain.choices[0].message.content, 'plain');
  t.notOk((bodyOf(fake, 0).tools ?? []).some((x) => x.function.name === 'get_weather'), 'not offered');

  const clash = { ...WEATHER, function: { ...WEATHER.function, name: 'datetime' } };
  const err = await client.chat.completions.create({ model: 'helper', messages: [{ role: 'user', content: 'hi' }], tools: [clash] }).catch((e: unknown) => e);
  t.ok(err instanceof OpenAI.BadRequestError, 'a clash with an agent tool is a 400');
  t.match((err as Error).message, /datetime/);
  t.equal(fake.requests.length, 1, 'the clash never reached the model');

  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-troupe-session-key': 'kept' },
    body: JSON.stringify({ model: 'helper', messages: [{ role: 'user', content: 'hi' }], tools: [WEATHER] }),
  });
  t.equal(res.status, 400);
  t.match(await res.json(), { error: { type: 'invalid_request_error', code: 'INVALID_REQUEST', param: 'tools' } });

  // The gateway is still serving.
  fake.script({ text: 'still here' });
  const after = await client.chat.completions.create({ model: 'helper', messages: [{ role: 'user', content: 'hi' }] });
  t.equal(after.choices[0].message.content, 'still here');
});
