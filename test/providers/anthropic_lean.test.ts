// The lean Anthropic transport (undici pool + incremental SSE parser) against
// the fake Messages upstream: the conformance suite, then the same requests
// through the lean path and through `@anthropic-ai/sdk`, compared field by
// field (events, errors, what reached the upstream).

import t from 'tap';
import { AnthropicProvider } from '../../providers/anthropic.js';
import { AnthropicLeanProvider } from '../../providers/anthropic_lean.js';
import { createProvider, LazyProvider, type ChatRequest, type Provider } from '../../providers/index.js';
import { AnthropicUpstream } from '../fakes/anthropic_upstream.js';
import type { FakeUpstream } from '../fakes/upstream.js';
import { compareTransports, runConformance, toolHistoryRequest } from './conformance.js';

runConformance({
  name: 'anthropic lean',
  fake: () => new AnthropicUpstream(),
  at: (root, timeoutMs) => new AnthropicLeanProvider({ apiKey: 'sk-ant-test', baseURL: root, timeoutMs }),
  inStreamErrors: true,
  thinking: true,
});

const options = (fake: FakeUpstream) => ({
  apiKey: 'sk-ant-test', baseURL: `${fake.url}/`, timeoutMs: 5000, defaultMaxTokens: 1000, defaultHeaders: { 'x-team': 'blue' },
});

/** Every field the Messages wire translates: system and tool cache markers, tool history, limits, stop, extra (one field the SDK turns into a header). */
const full: ChatRequest = {
  ...toolHistoryRequest,
  maxTokens: undefined,
  tools: [{ ...toolHistoryRequest.tools![0], cacheControl: { type: 'ephemeral' } }],
  messages: [
    { role: 'system', content: [{ type: 'text', text: 'Long stable instructions.', cacheControl: { type: 'ephemeral', ttl: '1h' } }] },
    ...toolHistoryRequest.messages.slice(1, 3),
    { role: 'tool', toolCallId: 'call_1', content: 'one who acts', cacheControl: { type: 'ephemeral' } },
  ],
  headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  extra: { metadata: { user_id: 'u-7' }, workspace_id: 'wrkspc_1' },
};

compareTransports({
  name: 'anthropic',
  fake: () => new AnthropicUpstream(),
  sdk: (fake) => new AnthropicProvider(options(fake)),
  lean: (fake) => new AnthropicLeanProvider(options(fake)),
  request: full,
  headers: ['authorization', 'x-api-key', 'anthropic-version', 'anthropic-workspace-id', 'content-type', 'accept', 'x-team', 'traceparent'],
  extra: [
    ['streamed thinking, then text', { thinking: 'let me see', text: 'The answer.' }],
    ['cache reads and writes', { text: 'cached answer', usage: { input: 20, output: 3, cacheRead: 1000, cacheWrite: 50 } }],
    ['529 overloaded', { status: 529, errorMessage: 'Overloaded' }],
    ['an overloaded_error inside the stream', { text: 'a b c d', streamErrorAfterChunks: 4, streamErrorType: 'overloaded_error', errorMessage: 'Overloaded' }],
  ],
});

t.test('createProvider: anthropic is the lean transport unless the sdk is asked for', async (t) => {
  const adapter = (p: Provider): Promise<Provider> => (p as LazyProvider).adapter();
  t.ok(await adapter(createProvider({ kind: 'anthropic', apiKey: 'k' }, {})) instanceof AnthropicLeanProvider);
  t.ok(await adapter(createProvider({ kind: 'anthropic', apiKey: 'k', transport: 'lean' }, {})) instanceof AnthropicLeanProvider);
  t.ok(await adapter(createProvider({ kind: 'anthropic', apiKey: 'k', transport: 'sdk' }, {})) instanceof AnthropicProvider);
});
