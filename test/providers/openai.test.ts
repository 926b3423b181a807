// The OpenAI adapter with the real `openai` SDK against the fake
// Chat Completions upstream.

import t from 'tap';
import { collectStream } from '../../providers/index.js';
import { OpenAIProvider } from '../../providers/openai.js';
import { OpenAIUpstream } from '../fakes/openai_upstream.js';
import { drain, hello, runConformance, started, toolHistoryRequest } from './conformance.js';
import type { FakeUpstream } from '../fakes/upstream.js';

const provider = (fake: FakeUpstream, prefix = '/v1'): OpenAIProvider =>
  new OpenAIProvider({ apiKey: 'sk-test', baseURL: `${fake.url}${prefix}`, timeoutMs: 5000 });

runConformance({
  name: 'openai',
  fake: () => new OpenAIUpstream(),
  at: (root, timeoutMs) => new OpenAIProvider({ apiKey: 'sk-test', baseURL: `${root}/v1`, timeoutMs }),
  inStreamErrors: true,
});

t.test('openai: the request asks for streamed usage and carries the key, tools and history', async (t) => {
  const fake = await started(t, () => new OpenAIUpstream());
  await collectStream(
    provider(fake).stream(toolHistoryRequest),
  );
  const { body, headers, url } = fake.lastRequest;
  t.equal(url, '/v1/chat/completions');
  t.equal(headers.authorization, 'Bearer sk-test');
  t.match(body, {
    model: 'gpt-test',
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: 64,
    temperature: 0.2,
    stop: ['END'],
    tools: [{ type: 'function', function: { name: 'lookup', description: 'Look up a word' } }],
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Define actor.' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"actor"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'one who acts' },
    ],
  });
});

t.test('openai: an OpenAI-compatible base URL with its own path prefix works', async (t) => {
  const fake = await started(t, () => new OpenAIUpstream());
  fake.script({ text: 'routed reply' });
  const compatible = new OpenAIProvider({
    apiKey: 'or-key',
    baseURL: `${fake.url}/openrouter/api/v1`,
    label: 'openrouter',
    defaultHeaders: { 'HTTP-Referer': 'https://troupe.example' },
  });
  const reply = await collectStream(compatible.stream(hello));
  t.equal(reply.text, 'routed reply');
  t.equal(fake.lastRequest.url, '/openrouter/api/v1/chat/completions');
  t.equal(fake.lastRequest.headers['http-referer'], 'https://troupe.example');
});

t.test('openai: errors name the configured label', async (t) => {
  const fake = await started(t, () => new OpenAIUpstream());
  fake.script({ status: 503 });
  const labelled = new OpenAIProvider({ apiKey: 'k', baseURL: `${fake.url}/v1`, label: 'groq' });
  const { error } = await drain(labelled.stream(hello));
  t.equal(error?.provider, 'groq');
  t.equal(error?.kind, 'overloaded');
});

t.test('openai: cached prompt tokens are reported as cacheReadTokens', async (t) => {
  const fake = await started(t, () => new OpenAIUpstream());
  fake.script({ text: 'hi', usage: { input: 100, output: 1, cacheRead: 64 } });
  const reply = await collectStream(provider(fake).stream(hello));
  t.same(reply.usage, { type: 'usage', inputTokens: 100, outputTokens: 1, cacheReadTokens: 64 });
});


t.test('openai: maxTokensField selects max_completion_tokens', async (t) => {
  const fake = await started(t, () => new OpenAIUpstream());
  const p = new OpenAIProvider({ apiKey: 'k', baseURL: `${fake.url}/v1`, maxTokensField: 'max_completion_tokens' });
  await collectStream(p.stream({ ...hello, maxTokens: 10 }));
  t.match(fake.lastRequest.body, { max_completion_tokens: 10 });
  t.notMatch(fake.lastRequest.body, { max_tokens: Number });
});
