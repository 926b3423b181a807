// The Ollama adapter (the lean undici transport, NDJSON) against the fake /api/chat upstream.

import t from 'tap';
import { collectStream } from '../../providers/index.js';
import { OllamaProvider } from '../../providers/ollama.js';
import { OllamaUpstream } from '../fakes/ollama_upstream.js';
import { drain, hello, runConformance, started } from './conformance.js';
import type { FakeUpstream } from '../fakes/upstream.js';

const provider = (fake: FakeUpstream): OllamaProvider => new OllamaProvider({ baseURL: fake.url, timeoutMs: 5000 });

runConformance({
  name: 'ollama',
  fake: () => new OllamaUpstream(),
  at: (root, timeoutMs) => new OllamaProvider({ baseURL: root, timeoutMs }),
  inStreamErrors: true,
  thinking: true,
});

t.test('ollama: the request uses native messages, options and tool_calls with object arguments', async (t) => {
  const fake = await started(t, () => new OllamaUpstream());
  await collectStream(
    provider(fake).stream({
      model: 'llama-test',
      temperature: 0,
      maxTokens: 50,
      stop: ['\n\n'],
      tools: [{ name: 'weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'weather', arguments: '{"city":"Hue"}' }] },
        { role: 'tool', toolCallId: 'c1', content: '28C' },
      ],
      extra: { keep_alive: '5m' },
    }),
  );
  const { url, body } = fake.lastRequest;
  t.equal(url, '/api/chat');
  t.match(body, {
    model: 'llama-test',
    stream: true,
    keep_alive: '5m',
    options: { temperature: 0, num_predict: 50, stop: ['\n\n'] },
    tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' } } }],
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', tool_calls: [{ function: { name: 'weather', arguments: { city: 'Hue' } } }] },
      { role: 'tool', content: '28C', tool_name: 'weather' },
    ],
  });
});

t.test('ollama: an API key is sent as a bearer token for hosted Ollama', async (t) => {
  const fake = await started(t, () => new OllamaUpstream());
  await collectStream(new OllamaProvider({ baseURL: fake.url, apiKey: 'ol-key' }).stream(hello));
  t.equal(fake.lastRequest.headers.authorization, 'Bearer ol-key');
});

t.test('ollama: a 404 for a missing model is bad_request with the upstream message', async (t) => {
  const fake = await started(t, () => new OllamaUpstream());
  fake.script({ status: 404, errorMessage: 'model "nope" not found, try pulling it first' });
  const { error } = await drain(provider(fake).stream(hello));
  t.equal(error?.kind, 'bad_request');
  t.match(error?.message, /not found, try pulling/);
});

