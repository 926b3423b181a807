// The lean OpenAI transport (undici pool + incremental SSE parser) against the
// fake Chat Completions upstream: the conformance suite, then the same
// requests through the lean path and through the official `openai` SDK,
// compared field by field (events, errors, what reached the upstream).

import t from 'tap';
import { createProvider, LazyProvider, type ChatRequest, type Provider, type StreamEvent } from '../../providers/index.js';
import { OpenAIProvider } from '../../providers/openai.js';
import { OpenAILeanProvider } from '../../providers/openai_lean.js';
import { OpenAIUpstream } from '../fakes/openai_upstream.js';
import type { ScriptedReply } from '../fakes/script.js';
import type { FakeUpstream } from '../fakes/upstream.js';
import { drain, hello, runConformance, started, toolHistoryRequest } from './conformance.js';

runConformance({
  name: 'openai lean',
  fake: () => new OpenAIUpstream(),
  at: (root, timeoutMs) => new OpenAILeanProvider({ apiKey: 'sk-test', baseURL: `${root}/v1`, timeoutMs }),
  inStreamErrors: true,
});

const options = (fake: FakeUpstream) => ({
  apiKey: 'sk-test', baseURL: `${fake.url}/compat/v1`, timeoutMs: 5000, label: 'groq', defaultHeaders: { 'x-team': 'blue' },
});

/** What a run through one transport produced, in comparable form. */
interface Outcome {
  events: StreamEvent[];
  error?: { kind: string; status?: number; retryAfterMs?: number; message: string; code: string; retryable: boolean; provider: string };
  request: { method: string; url: string; body: unknown; headers: Record<string, unknown> };
}

async function outcome(provider: Provider, fake: FakeUpstream, reply: ScriptedReply, req: ChatRequest): Promise<Outcome> {
  fake.script(reply);
  const { events, error } = await drain(provider.stream(req));
  const last = fake.lastRequest;
  const headers: Record<string, unknown> = {};
  for (const name of ['authorization', 'content-type', 'accept', 'x-team', 'traceparent']) headers[name] = last.headers[name];
  return {
    events,
    ...(error === undefined ? {} : {
      error: {
        kind: error.kind, message: error.message, code: error.code, retryable: error.retryable, provider: error.provider,
        ...(error.status === undefined ? {} : { status: error.status }),
        ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
      },
    }),
    request: { method: last.method, url: last.url, body: last.body, headers },
  };
}

const full: ChatRequest = {
  ...toolHistoryRequest,
  headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  extra: { seed: 7 },
};

const CASES: Array<[string, ScriptedReply]> = [
  ['streamed text with usage', { chunks: ['Hel', 'lo, ', 'wörld', ' 🌧'], usage: { input: 12, output: 5 } }],
  ['cached prompt tokens', { text: 'hi there', usage: { input: 100, output: 2, cacheRead: 64 } }],
  ['tool calls in pieces', { text: 'Checking.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Hà Nội', days: [1, 2] }, argumentChunks: 4 }, { name: 'lookup', arguments: { q: 'tides' } }] }],
  ['cut by the token limit', { text: 'cut short', finish: 'length' }],
  ['429 with Retry-After', { status: 429, retryAfter: '3', errorMessage: 'slow down' }],
  ['400 context overflow', { status: 400, errorMessage: 'maximum context length is 128000 tokens' }],
  ['400 bad request', { status: 400, errorMessage: 'unknown field "foo"' }],
  ['401', { status: 401, errorMessage: 'invalid api key' }],
  ['500', { status: 500 }],
  ['503 with Retry-After', { status: 503, retryAfter: '1' }],
  ['an in-stream error', { text: 'one two three four', streamErrorAfterChunks: 3, streamErrorType: 'rate_limit_exceeded', errorMessage: 'Too many' }],
  ['a stream cut before its end', { text: 'one two three four five', cutAfterChunks: 3 }],
  ['a connection reset mid-stream', { text: 'one two three four five', cutAfterChunks: 3, cutMode: 'destroy' }],
];

for (const [name, reply] of CASES) {
  t.test(`openai lean = sdk: ${name}`, async (t) => {
    const fake = await started(t, () => new OpenAIUpstream());
    const sdk = await outcome(new OpenAIProvider(options(fake)), fake, reply, full);
    const lean = await outcome(new OpenAILeanProvider(options(fake)), fake, reply, full);
    // A reset socket's message is the HTTP client's own ("terminated" from fetch, "other side closed" from undici).
    if (reply.cutMode === 'destroy' && sdk.error && lean.error) lean.error.message = sdk.error.message;
    t.same(lean.events, sdk.events, 'the same events');
    t.same(lean.error, sdk.error, 'the same error, field by field');
    t.same(lean.request, sdk.request, 'the same request reached the upstream');
  });
}

t.test('openai lean = sdk: an abort mid-stream is aborted on both, and the connection closes', async (t) => {
  const fake = await started(t, () => new OpenAIUpstream());
  const kinds: string[] = [];
  for (const provider of [new OpenAIProvider(options(fake)), new OpenAILeanProvider(options(fake))]) {
    fake.script({ text: 'a b c d e f g h i j k l', delayMsPerChunk: 50 });
    const before = fake.clientAborts;
    const controller = new AbortController();
    const { error } = await drain((async function* () {
      for await (const event of provider.stream({ ...hello, signal: controller.signal })) {
        yield event;
        if (event.type === 'text') controller.abort();
      }
    })());
    kinds.push(error?.kind ?? 'none');
    await fake.waitForClientAbort();
    for (let i = 0; i < 200 && fake.clientAborts === before; i++) await new Promise((r) => setTimeout(r, 10));
    t.ok(fake.clientAborts > before, `${provider.constructor.name} closed the connection`);
  }
  t.same(kinds, ['aborted', 'aborted']);
});

t.test('openai lean: a caller that walks away mid-stream (no abort) closes the connection', async (t) => {
  const fake = await started(t, () => new OpenAIUpstream());
  fake.script({ text: 'a b c d e f g h i j k l', delayMsPerChunk: 50 });
  const before = fake.clientAborts;
  for await (const event of new OpenAILeanProvider(options(fake)).stream(hello)) {
    if (event.type === 'text') break;
  }
  await fake.waitForClientAbort();
  t.ok(fake.clientAborts > before, 'the upstream saw the connection close');
});

t.test('openai lean: sequential requests reuse one kept-alive connection', async (t) => {
  const fake = await started(t, () => new OpenAIUpstream());
  const provider = new OpenAILeanProvider(options(fake));
  for (let i = 0; i < 6; i++) {
    const { error } = await drain(provider.stream(hello));
    t.equal(error, undefined);
  }
  t.equal(fake.requests.length, 6);
  // undici may open a second one when the next request comes in the same tick as the previous end.
  t.ok(fake.connectionsOpened <= 2, `six requests over ${fake.connectionsOpened} connection(s)`);
});

t.test('openai lean: an error answer is read to its end, so its connection is reused too', async (t) => {
  const fake = await started(t, () => new OpenAIUpstream());
  const provider = new OpenAILeanProvider(options(fake));
  fake.script({ status: 429, retryAfter: '1' }, { status: 500 }, { status: 400 }, { status: 503 });
  t.equal((await drain(provider.stream(hello))).error?.kind, 'rate_limited');
  t.equal((await drain(provider.stream(hello))).error?.kind, 'overloaded');
  t.equal((await drain(provider.stream(hello))).error?.kind, 'bad_request');
  t.equal((await drain(provider.stream(hello))).error?.kind, 'overloaded');
  t.equal((await drain(provider.stream(hello))).error, undefined);
  t.ok(fake.connectionsOpened <= 2, `five answers over ${fake.connectionsOpened} connection(s)`);
});

t.test('createProvider: openai is the lean transport unless the sdk is asked for', async (t) => {
  const adapter = (p: Provider): Promise<Provider> => (p as LazyProvider).adapter();
  t.ok(await adapter(createProvider({ kind: 'openai', apiKey: 'k' }, {})) instanceof OpenAILeanProvider);
  t.ok(await adapter(createProvider({ kind: 'openai', apiKey: 'k', transport: 'lean' }, {})) instanceof OpenAILeanProvider);
  t.ok(await adapter(createProvider({ kind: 'openai', apiKey: 'k', transport: 'sdk' }, {})) instanceof OpenAIProvider);
});
