// The Anthropic adapter with the real `@anthropic-ai/sdk` against the fake
// Messages upstream.

import t from 'tap';
import { collectStream } from '../../providers/index.js';
import { AnthropicProvider } from '../../providers/anthropic.js';
import { AnthropicUpstream } from '../fakes/anthropic_upstream.js';
import { drain, hello, runConformance, started } from './conformance.js';
import type { FakeUpstream } from '../fakes/upstream.js';

const provider = (fake: FakeUpstream): AnthropicProvider =>
  new AnthropicProvider({ apiKey: 'sk-ant-test', baseURL: fake.url, timeoutMs: 5000 });

runConformance({
  name: 'anthropic',
  fake: () => new AnthropicUpstream(),
  at: (root, timeoutMs) => new AnthropicProvider({ apiKey: 'sk-ant-test', baseURL: root, timeoutMs }),
  inStreamErrors: true,
  thinking: true,
});

t.test('anthropic: cache_control markers reach the upstream body on system, parts, messages and tools', async (t) => {
  const fake = await started(t, () => new AnthropicUpstream());
  await collectStream(
    provider(fake).stream({
      model: 'claude-test',
      tools: [
        { name: 'lookup', description: 'Look up', parameters: { type: 'object', properties: { q: { type: 'string' } } }, cacheControl: { type: 'ephemeral' } },
      ],
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'Long stable instructions.', cacheControl: { type: 'ephemeral', ttl: '1h' } }] },
        { role: 'user', content: 'First question', cacheControl: { type: 'ephemeral' } },
        { role: 'assistant', content: 'First answer' },
        { role: 'user', content: 'Second question' },
      ],
    }),
  );
  const body = fake.lastRequest.body;
  t.match(body, {
    system: [{ type: 'text', text: 'Long stable instructions.', cache_control: { type: 'ephemeral', ttl: '1h' } }],
    tools: [{ name: 'lookup', cache_control: { type: 'ephemeral' } }],
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'First question', cache_control: { type: 'ephemeral' } }] },
      { role: 'assistant', content: [{ type: 'text', text: 'First answer' }] },
      { role: 'user', content: [{ type: 'text', text: 'Second question' }] },
    ],
  });
  const messages = (body as { messages: Array<{ content: Array<{ cache_control?: unknown }> }> }).messages;
  t.equal(messages[2].content[0].cache_control, undefined, 'unmarked blocks carry no marker');
});

t.test('anthropic: tool calls and results become tool_use and one user turn of tool_result blocks', async (t) => {
  const fake = await started(t, () => new AnthropicUpstream());
  await collectStream(
    provider(fake).stream({
      model: 'claude-test',
      maxTokens: 300,
      stop: ['END'],
      messages: [
        { role: 'user', content: 'Weather in two cities?' },
        {
          role: 'assistant',
          content: 'Looking.',
          toolCalls: [
            { id: 'toolu_1', name: 'weather', arguments: '{"city":"Hanoi"}' },
            { id: 'toolu_2', name: 'weather', arguments: '{"city":"Hue"}' },
          ],
        },
        { role: 'tool', toolCallId: 'toolu_1', content: '31C' },
        { role: 'tool', toolCallId: 'toolu_2', content: '28C' },
      ],
    }),
  );
  t.match(fake.lastRequest.body, {
    max_tokens: 300,
    stop_sequences: ['END'],
    stream: true,
    messages: [
      { role: 'user' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Looking.' },
          { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Hanoi' } },
          { type: 'tool_use', id: 'toolu_2', name: 'weather', input: { city: 'Hue' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '31C' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: '28C' },
        ],
      },
    ],
  });
  t.equal((fake.lastRequest.body as { messages: unknown[] }).messages.length, 3);
});

t.test('anthropic: usage counts the whole prompt and reports cache reads and writes', async (t) => {
  const fake = await started(t, () => new AnthropicUpstream());
  fake.script({ text: 'cached answer', usage: { input: 20, output: 3, cacheRead: 1000, cacheWrite: 50 } });
  const reply = await collectStream(provider(fake).stream(hello));
  t.same(reply.usage, { type: 'usage', inputTokens: 1070, outputTokens: 3, cacheReadTokens: 1000, cacheWriteTokens: 50 });
});

t.test('anthropic: a rate_limit_error event inside the stream is rate_limited', async (t) => {
  const fake = await started(t, () => new AnthropicUpstream());
  fake.script({ text: 'a b c', streamErrorAfterChunks: 3, streamErrorType: 'rate_limit_error' });
  const { error } = await drain(provider(fake).stream(hello));
  t.equal(error?.kind, 'rate_limited');
});

t.test('anthropic: 529 overloaded_error is overloaded and retryable', async (t) => {
  const fake = await started(t, () => new AnthropicUpstream());
  fake.script({ status: 529, errorMessage: 'Overloaded' });
  const { error } = await drain(provider(fake).stream(hello));
  t.equal(error?.kind, 'overloaded');
  t.equal(error?.retryable, true);
});


t.test('anthropic: tool arguments that are not JSON fail as bad_request before sending', async (t) => {
  const fake = await started(t, () => new AnthropicUpstream());
  const { error } = await drain(
    provider(fake).stream({
      model: 'claude-test',
      messages: [{ role: 'assistant', content: '', toolCalls: [{ id: 'x', name: 'f', arguments: '{oops' }] }],
    }),
  );
  t.equal(error?.kind, 'bad_request');
  t.equal(fake.requests.length, 0);
});

t.test('anthropic: the API key reaches the upstream', async (t) => {
  const fake = await started(t, () => new AnthropicUpstream());
  await collectStream(provider(fake).stream(hello));
  const { headers } = fake.lastRequest;
  t.ok(headers['x-api-key'] === 'sk-ant-test' || headers.authorization === 'Bearer sk-ant-test', 'key sent');
  t.type(headers['anthropic-version'], 'string');
});
