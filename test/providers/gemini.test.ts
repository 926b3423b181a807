// The Gemini adapter with the real `@google/genai` SDK against the
// fake streamGenerateContent upstream.

import t from 'tap';
import { collectStream } from '../../providers/index.js';
import { GeminiProvider } from '../../providers/gemini.js';
import { GeminiUpstream } from '../fakes/gemini_upstream.js';
import { drain, hello, runConformance, started, uncleanTools } from './conformance.js';
import type { FakeUpstream } from '../fakes/upstream.js';

const provider = (fake: FakeUpstream): GeminiProvider =>
  new GeminiProvider({ apiKey: 'gm-test', baseURL: fake.url, timeoutMs: 5000 });

runConformance({
  name: 'gemini',
  fake: () => new GeminiUpstream(),
  at: (root, timeoutMs) => new GeminiProvider({ apiKey: 'gm-test', baseURL: root, timeoutMs }),
  inStreamErrors: true,
  thinking: true,
});

t.test('gemini: tool schemas arrive cleaned of keywords Gemini rejects', async (t) => {
  const fake = await started(t, () => new GeminiUpstream());
  await collectStream(
    provider(fake).stream({
      ...hello,
      tools: uncleanTools,
    }),
  );
  const body = fake.lastRequest.body as { tools: Array<{ functionDeclarations: Array<{ parameters?: unknown }> }> };
  const [search, now] = body.tools[0].functionDeclarations;
  // The SDK sends types as the API's Type enum (upper case).
  t.same(search.parameters, {
    type: 'OBJECT',
    properties: {
      query: { type: 'STRING' },
      limit: { type: 'INTEGER', nullable: true },
      tags: { type: 'ARRAY', items: { type: 'STRING', enum: ['a', 'b'] } },
    },
    required: ['query'],
  });
  t.equal(now.parameters, undefined, 'a tool without parameters declares none');
  t.notMatch(JSON.stringify(body), /additionalProperties|\$schema|"default"|\$ref|\$defs|examples|minLength/);
});

t.test('gemini: the request carries the system instruction, roles, tool results by name and the key', async (t) => {
  const fake = await started(t, () => new GeminiUpstream());
  await collectStream(
    provider(fake).stream({
      model: 'gemini-test',
      temperature: 0.5,
      maxTokens: 99,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'gemini_call_0', name: 'weather', arguments: '{"city":"Hue"}' }] },
        { role: 'tool', toolCallId: 'gemini_call_0', content: '{"celsius":28}' },
      ],
    }),
  );
  const { url, headers, body } = fake.lastRequest;
  t.equal(url, '/v1beta/models/gemini-test:streamGenerateContent?alt=sse');
  t.equal(headers['x-goog-api-key'], 'gm-test');
  t.match(body, {
    systemInstruction: { parts: [{ text: 'Be brief.' }] },
    generationConfig: { temperature: 0.5, maxOutputTokens: 99 },
    contents: [
      { role: 'user', parts: [{ text: 'Weather?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'weather', args: { city: 'Hue' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'weather', response: { celsius: 28 } } }] },
    ],
  });
});

t.test('gemini: a tool result for an unknown call is bad_request', async (t) => {
  const fake = await started(t, () => new GeminiUpstream());
  const { error } = await drain(provider(fake).stream({ model: 'm', messages: [{ role: 'tool', toolCallId: 'nope', content: 'x' }] }));
  t.equal(error?.kind, 'bad_request');
  t.equal(fake.requests.length, 0);
});

t.test('gemini: thinking tokens count as output tokens', async (t) => {
  const fake = await started(t, () => new GeminiUpstream());
  fake.script({ thinking: 'one two three', text: 'done', usage: { input: 4, output: 1 } });
  const reply = await collectStream(provider(fake).stream(hello));
  t.same(reply.usage, { type: 'usage', inputTokens: 4, outputTokens: 4 });
});
