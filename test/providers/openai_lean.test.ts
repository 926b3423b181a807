// The lean OpenAI transport (undici pool + incremental SSE parser) against the
// fake Chat Completions upstream: the conformance suite, then the same
// requests through the lean path and through the official `openai` SDK,
// compared field by field (events, errors, what reached the upstream).

import t from 'tap';
import { createProvider, LazyProvider, type ChatRequest, type Provider } from '../../providers/index.js';
import { OpenAIProvider } from '../../providers/openai.js';
import { OpenAILeanProvider } from '../../providers/openai_lean.js';
import { OpenAIUpstream } from '../fakes/openai_upstream.js';
import type { FakeUpstream } from '../fakes/upstream.js';
import { compareTransports, runConformance, toolHistoryRequest } from './conformance.js';

runConformance({
  name: 'openai lean',
  fake: () => new OpenAIUpstream(),
  at: (root, timeoutMs) => new OpenAILeanProvider({ apiKey: 'sk-test', baseURL: `${root}/v1`, timeoutMs }),
  inStreamErrors: true,
});

const options = (fake: FakeUpstream) => ({
  apiKey: 'sk-test', baseURL: `${fake.url}/compat/v1`, timeoutMs: 5000, label: 'groq', defaultHeaders: { 'x-team': 'blue' },
});

const full: ChatRequest = {
  ...toolHistoryRequest,
  headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  extra: { seed: 7 },
};

compareTransports({
  name: 'openai',
  fake: () => new OpenAIUpstream(),
  sdk: (fake) => new OpenAIProvider(options(fake)),
  lean: (fake) => new OpenAILeanProvider(options(fake)),
  request: full,
  headers: ['authorization', 'content-type', 'accept', 'x-team', 'traceparent'],
});

t.test('createProvider: openai is the lean transport unless the sdk is asked for', async (t) => {
  const adapter = (p: Provider): Promise<Provider> => (p as LazyProvider).adapter();
  t.ok(await adapter(createProvider({ kind: 'openai', apiKey: 'k' }, {})) instanceof OpenAILeanProvider);
  t.ok(await adapter(createProvider({ kind: 'openai', apiKey: 'k', transport: 'lean' }, {})) instanceof OpenAILeanProvider);
  t.ok(await adapter(createProvider({ kind: 'openai', apiKey: 'k', transport: 'sdk' }, {})) instanceof OpenAIProvider);
});
