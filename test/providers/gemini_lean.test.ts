// The lean Gemini transport (undici pool + incremental SSE parser) against the
// fake streamGenerateContent upstream: the conformance suite, then the same
// requests through the lean path and through `@google/genai`, compared field
// by field (events, errors, what reached the upstream).

import t from 'tap';
import { GeminiProvider } from '../../providers/gemini.js';
import { GeminiLeanProvider } from '../../providers/gemini_lean.js';
import { createProvider, LazyProvider, type ChatRequest, type Provider } from '../../providers/index.js';
import { GeminiUpstream } from '../fakes/gemini_upstream.js';
import type { FakeUpstream } from '../fakes/upstream.js';
import { compareTransports, runConformance, started, toolHistoryRequest, uncleanTools } from './conformance.js';

runConformance({
  name: 'gemini lean',
  fake: () => new GeminiUpstream(),
  at: (root, timeoutMs) => new GeminiLeanProvider({ apiKey: 'gm-test', baseURL: root, timeoutMs }),
  inStreamErrors: true,
  thinking: true,
});

const options = (fake: FakeUpstream) => ({
  apiKey: 'gm-test', baseURL: `${fake.url}/`, timeoutMs: 5000, defaultHeaders: { 'x-team': 'blue' },
});

/** Every field the Gemini wire translates: a schema to clean, tool history by name, limits, stop, and extra merged deep. */
const full: ChatRequest = {
  ...toolHistoryRequest,
  model: 'gemini-test',
  tools: [
    ...toolHistoryRequest.tools!,
    ...uncleanTools!,
    {
      name: 'since',
      description: 'A nullable anyOf, a format and bounds',
      parameters: { type: 'object', properties: { when: { anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }], description: 'since' }, n: { type: 'integer', minimum: 1 } } },
    },
  ],
  headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  extra: { generationConfig: { topK: 3 }, safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }] },
};

compareTransports({
  name: 'gemini',
  fake: () => new GeminiUpstream(),
  sdk: (fake) => new GeminiProvider(options(fake)),
  lean: (fake) => new GeminiLeanProvider(options(fake)),
  request: full,
  headers: ['x-goog-api-key', 'content-type', 'x-team', 'traceparent'],
  extra: [
    ['thoughts, then text', { thinking: 'one two three', text: 'done', usage: { input: 4, output: 1 } }],
    ['an overloaded error inside the stream', { text: 'a b c d', streamErrorAfterChunks: 2, streamErrorType: 'overloaded_error', errorMessage: 'Overloaded' }],
    ['429 without RetryInfo', { status: 429, errorMessage: 'quota' }],
  ],
});

t.test('gemini lean = sdk: a request with no system message, temperature or tools sends an empty generation config', async (t) => {
  const fake = await started(t, () => new GeminiUpstream());
  const bodies: unknown[] = [];
  for (const provider of [new GeminiProvider(options(fake)), new GeminiLeanProvider(options(fake))]) {
    for await (const _ of provider.stream({ model: 'models/gemini-x', messages: [{ role: 'user', content: 'hi' }] })) void _;
    bodies.push({ url: fake.lastRequest.url, body: fake.lastRequest.body });
  }
  t.same(bodies[1], bodies[0]);
  t.same(bodies[0], { url: '/v1beta/models/gemini-x:streamGenerateContent?alt=sse', body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }], generationConfig: {} } });
});

t.test('createProvider: gemini is the lean transport unless the sdk is asked for', async (t) => {
  const adapter = (p: Provider): Promise<Provider> => (p as LazyProvider).adapter();
  t.ok(await adapter(createProvider({ kind: 'gemini', apiKey: 'k' }, {})) instanceof GeminiLeanProvider);
  t.ok(await adapter(createProvider({ kind: 'gemini', apiKey: 'k', transport: 'lean' }, {})) instanceof GeminiLeanProvider);
  t.ok(await adapter(createProvider({ kind: 'gemini', apiKey: 'k', transport: 'sdk' }, {})) instanceof GeminiProvider);
});
