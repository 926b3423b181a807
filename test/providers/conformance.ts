// The behaviours every network adapter must show, run once per adapter with
// its real SDK against its fake upstream. Adapter-specific behaviour (request
// translation, cache_control, schema cleaning) lives in each adapter's test.

import { createServer } from 'node:http';
import t from 'tap';
import { collectStream, ProviderError, type ChatRequest, type Provider, type StreamEvent } from '../../providers/index.js';
import type { ScriptedReply } from '../fakes/script.js';
import type { FakeUpstream } from '../fakes/upstream.js';

export interface Harness {
  readonly name: string;
  readonly fake: () => FakeUpstream;
  /** The adapter pointed at a server root (the fake's or another). */
  readonly at: (root: string, timeoutMs: number) => Provider;
  /** Whether the protocol can report an error inside an open stream. */
  readonly inStreamErrors?: boolean;
  /** Whether the protocol streams reasoning apart from the answer. */
  readonly thinking?: boolean;
}

export const hello: ChatRequest = {
  model: 'test-model',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Say hello.' },
  ],
};

/** A request with every field the OpenAI wire translates: limits, stop, a tool, and a tool call's round trip. */
export const toolHistoryRequest: ChatRequest = {
  model: 'gpt-test',
  maxTokens: 64,
  temperature: 0.2,
  stop: ['END'],
  tools: [{ name: 'lookup', description: 'Look up a word', parameters: { type: 'object', properties: { q: { type: 'string' } } } }],
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: [{ type: 'text', text: 'Define ' }, { type: 'text', text: 'actor.' }] },
    { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'lookup', arguments: '{"q":"actor"}' }] },
    { role: 'tool', toolCallId: 'call_1', content: 'one who acts' },
  ],
};

/**
 * Tools whose schemas use what Gemini rejects (`$schema`, `additionalProperties`,
 * `default`, `$ref`, a nullable type list, a `required` name with no property)
 * and one without parameters: Gemini's adapters must clean them.
 */
export const uncleanTools: ChatRequest['tools'] = [
  {
    name: 'search',
    description: 'Search the notes',
    parameters: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      additionalProperties: false,
      properties: {
        query: { type: 'string', default: 'all', minLength: 1, examples: ['x'] },
        limit: { type: ['integer', 'null'], default: 10 },
        tags: { type: 'array', items: { $ref: '#/$defs/tag' } },
      },
      required: ['query', 'ghost'],
      $defs: { tag: { type: 'string', enum: ['a', 'b'], title: 'Tag' } },
    },
  },
  { name: 'now', description: 'The time', parameters: { type: 'object', properties: {} } },
];

/** Anything with tap's teardown: the test that owns the fake. */
export interface Owner {
  teardown(fn: () => unknown): void;
}

export async function started(test: Owner, make: () => FakeUpstream): Promise<FakeUpstream> {
  const fake = make();
  await fake.start();
  test.teardown(() => fake.close());
  return fake;
}

/** Runs a stream to its end or failure, keeping what arrived before a failure. */
export async function drain(stream: AsyncIterable<StreamEvent>): Promise<{ events: StreamEvent[]; error?: ProviderError }> {
  const events: StreamEvent[] = [];
  try {
    for await (const event of stream) events.push(event);
    return { events };
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    return { events, error: err };
  }
}

/** What a run through one transport produced, in comparable form (lean vs SDK). */
export interface Outcome {
  events: StreamEvent[];
  error?: { kind: string; status?: number; retryAfterMs?: number; message: string; code: string; retryable: boolean; provider: string };
  request: { method: string; url: string; body: unknown; headers: Record<string, unknown> };
}

/** Runs `req` against the next scripted `reply` and records the outcome, with the named request headers. */
export async function outcome(provider: Provider, fake: FakeUpstream, reply: ScriptedReply, req: ChatRequest, headerNames: readonly string[]): Promise<Outcome> {
  fake.script(reply);
  const { events, error } = await drain(provider.stream(req));
  const last = fake.lastRequest;
  const headers: Record<string, unknown> = {};
  for (const name of headerNames) headers[name] = last.headers[name];
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

/** The scripted replies every lean-vs-SDK comparison runs, by name. */
export const COMPARED_REPLIES: ReadonlyArray<readonly [string, ScriptedReply]> = [
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

/**
 * Runs every compared reply through the SDK adapter and then the lean one,
 * against the same fake, and checks events, error and upstream request field
 * by field. `extra` replies are the protocol's own cases.
 */
export function compareTransports(o: {
  readonly name: string;
  readonly fake: () => FakeUpstream;
  readonly sdk: (fake: FakeUpstream) => Provider;
  readonly lean: (fake: FakeUpstream) => Provider;
  readonly request: ChatRequest;
  readonly headers: readonly string[];
  readonly extra?: ReadonlyArray<readonly [string, ScriptedReply]>;
}): void {
  for (const [name, reply] of [...COMPARED_REPLIES, ...(o.extra ?? [])]) {
    t.test(`${o.name} lean = sdk: ${name}`, async (t) => {
      const fake = await started(t, o.fake);
      const sdk = await outcome(o.sdk(fake), fake, reply, o.request, o.headers);
      const lean = await outcome(o.lean(fake), fake, reply, o.request, o.headers);
      // A reset socket's message is the HTTP client's own ("terminated" from fetch, "other side closed" from undici).
      if (reply.cutMode === 'destroy' && sdk.error && lean.error) lean.error.message = sdk.error.message;
      t.same(lean.events, sdk.events, 'the same events');
      t.same(lean.error, sdk.error, 'the same error, field by field');
      t.same(lean.request, sdk.request, 'the same request reached the upstream');
    });
  }

  t.test(`${o.name} lean = sdk: an abort mid-stream is aborted on both, and the connection closes`, async (t) => {
    const fake = await started(t, o.fake);
    const kinds: string[] = [];
    for (const provider of [o.sdk(fake), o.lean(fake)]) {
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
      for (let i = 0; i < 500 && fake.clientAborts === before; i++) await new Promise((r) => setTimeout(r, 10));
      t.ok(fake.clientAborts > before, `${provider.constructor.name} closed the connection`);
    }
    t.same(kinds, ['aborted', 'aborted']);
  });

  t.test(`${o.name} lean: sequential requests and error answers reuse kept-alive connections`, async (t) => {
    const fake = await started(t, o.fake);
    const provider = o.lean(fake);
    fake.script({ text: 'hi' }, { text: 'hi' }, { status: 429, retryAfter: '1' }, { status: 500 }, { status: 400 }, { text: 'hi' });
    const kinds: string[] = [];
    for (let i = 0; i < 6; i++) kinds.push((await drain(provider.stream(hello))).error?.kind ?? 'ok');
    t.same(kinds, ['ok', 'ok', 'rate_limited', 'overloaded', 'bad_request', 'ok']);
    t.equal(fake.requests.length, 6);
    // undici may open a second one when the next request comes in the same tick as the previous end.
    t.ok(fake.connectionsOpened <= 2, `six answers over ${fake.connectionsOpened} connection(s)`);
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A server that accepts requests and never answers them. */
async function silentServer(test: Owner): Promise<string> {
  const server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  test.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('silent server has no port');
  return `http://127.0.0.1:${address.port}`;
}

export function runConformance(h: Harness): void {
  const provider = (fake: FakeUpstream): Provider => h.at(fake.url, 5000);

  t.test(`${h.name}: streamed text arrives in order with exact usage, then stop`, async (t) => {
    const fake = await started(t, h.fake);
    fake.script({ chunks: ['Hel', 'lo, ', 'world', '!'], usage: { input: 12, output: 5 } });
    const { events, error } = await drain(provider(fake).stream(hello));
    t.equal(error, undefined);
    const texts = events.filter((e) => e.type === 'text').map((e) => (e.type === 'text' ? e.delta : ''));
    t.same(texts, ['Hel', 'lo, ', 'world', '!']);
    t.same(events.find((e) => e.type === 'usage'), { type: 'usage', inputTokens: 12, outputTokens: 5 });
    t.same(events[events.length - 1], { type: 'stop', reason: 'stop' });
  });

  t.test(`${h.name}: a request's own headers (a traceparent) reach the upstream`, async (t) => {
    const fake = await started(t, h.fake);
    fake.script({ chunks: ['hi'] });
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const { error } = await drain(provider(fake).stream({ ...hello, headers: { traceparent } }));
    t.equal(error, undefined);
    t.equal(fake.requests.at(-1)?.headers.traceparent, traceparent);
  });

  t.test(`${h.name}: tool-call pieces reassemble into whole calls`, async (t) => {
    const fake = await started(t, h.fake);
    const weather = { city: 'Hà Nội', units: 'metric', days: [1, 2] };
    fake.script({
      text: 'Checking.',
      toolCalls: [
        { name: 'get_weather', arguments: weather, argumentChunks: 4 },
        { name: 'lookup', arguments: { q: 'tides' } },
      ],
    });
    const reply = await collectStream(provider(fake).stream(hello));
    t.equal(reply.stopReason, 'tool_calls');
    t.same(reply.toolCalls.map((c) => c.name), ['get_weather', 'lookup']);
    t.same(JSON.parse(reply.toolCalls[0].arguments), weather);
    t.same(JSON.parse(reply.toolCalls[1].arguments), { q: 'tides' });
    t.ok(reply.toolCalls.every((c) => c.id.length > 0), 'every call has an id');
    t.not(reply.toolCalls[0].id, reply.toolCalls[1].id);
  });

  t.test(`${h.name}: a reply cut by the token limit stops with length`, async (t) => {
    const fake = await started(t, h.fake);
    fake.script({ text: 'cut short', finish: 'length' });
    const reply = await collectStream(provider(fake).stream(hello));
    t.equal(reply.text, 'cut short');
    t.equal(reply.stopReason, 'length');
  });

  t.test(`${h.name}: 429 with Retry-After is rate_limited with retryAfterMs`, async (t) => {
    const fake = await started(t, h.fake);
    fake.script({ status: 429, retryAfter: '3', errorMessage: 'slow down' });
    const { error } = await drain(provider(fake).stream(hello));
    t.equal(error?.kind, 'rate_limited');
    t.equal(error?.status, 429);
    t.equal(error?.retryAfterMs, 3000);
    t.equal(error?.retryable, true);
    t.equal(error?.code, 'RATE_LIMITED');
  });

  const statuses: Array<[number, string, string]> = [
    [500, 'internal error', 'overloaded'],
    [503, 'unavailable', 'overloaded'],
    [401, 'invalid api key', 'auth'],
    [400, 'prompt is too long: 250000 tokens > 200000 maximum context length', 'context_overflow'],
    [400, 'unknown field "foo"', 'bad_request'],
  ];
  for (const [status, message, kind] of statuses) {
    t.test(`${h.name}: HTTP ${status} (${message}) is ${kind}`, async (t) => {
      const fake = await started(t, h.fake);
      fake.script({ status, errorMessage: message });
      const { events, error } = await drain(provider(fake).stream(hello));
      t.equal(error?.kind, kind);
      t.equal(error?.status, status);
      t.same(events, [], 'nothing was emitted before the error');
    });
  }

  t.test(`${h.name}: a stream that ends before its terminal marker is a network error`, async (t) => {
    const fake = await started(t, h.fake);
    fake.script({ text: 'one two three four five six seven', cutAfterChunks: 4 });
    const { events, error } = await drain(provider(fake).stream(hello));
    t.equal(error?.kind, 'network');
    t.match(error?.message, /ended early/);
    t.notOk(events.some((e) => e.type === 'stop'), 'no clean stop was reported');
  });

  if (h.thinking) {
    t.test(`${h.name}: streamed reasoning does not leak into the answer text`, async (t) => {
      const fake = await started(t, h.fake);
      fake.script({ thinking: 'secret chain of thought', text: 'The answer.' });
      const reply = await collectStream(provider(fake).stream(hello));
      t.equal(reply.text, 'The answer.');
      t.equal(reply.stopReason, 'stop');
    });
  }

  if (h.inStreamErrors) {
    t.test(`${h.name}: an error reported inside the stream rejects it as retryable, without a stop`, async (t) => {
      const fake = await started(t, h.fake);
      fake.script({ text: 'one two three four five', streamErrorAfterChunks: 3, streamErrorType: 'overloaded_error', errorMessage: 'Overloaded' });
      const { events, error } = await drain(provider(fake).stream(hello));
      t.equal(error?.kind, 'overloaded');
      t.equal(error?.retryable, true);
      t.match(error?.message, /Overloaded/);
      t.notOk(events.some((e) => e.type === 'stop'), 'no clean stop was reported');
    });
  }

  t.test(`${h.name}: a connection reset mid-stream is a network error`, async (t) => {
    const fake = await started(t, h.fake);
    fake.script({ text: 'one two three four five six seven', cutAfterChunks: 4, cutMode: 'destroy' });
    const { events, error } = await drain(provider(fake).stream(hello));
    t.equal(error?.kind, 'network');
    t.equal(error?.retryable, true);
    t.notOk(events.some((e) => e.type === 'stop'), 'no clean stop was reported');
  });

  t.test(`${h.name}: aborting mid-stream rejects with aborted and closes the upstream connection`, async (t) => {
    const fake = await started(t, h.fake);
    fake.script({ text: 'a b c d e f g h i j k l', delayMsPerChunk: 100 });
    const controller = new AbortController();
    const events: StreamEvent[] = [];
    let caught: unknown;
    try {
      for await (const event of provider(fake).stream({ ...hello, signal: controller.signal })) {
        events.push(event);
        if (event.type === 'text') controller.abort();
      }
    } catch (err) {
      caught = err;
    }
    t.ok(caught instanceof ProviderError, 'the stream rejected with a ProviderError');
    t.equal((caught as ProviderError).kind, 'aborted');
    t.equal((caught as ProviderError).retryable, false);
    t.ok(events.length < 12, 'the stream stopped early');
    await withTimeout(fake.waitForClientAbort(), 5000, 'the upstream seeing the connection close');
    t.ok(fake.clientAborts >= 1);
  });

  t.test(`${h.name}: breaking out of the stream early closes the upstream connection`, async (t) => {
    const fake = await started(t, h.fake);
    fake.script({ text: 'a b c d e f g h i j k l', delayMsPerChunk: 100 });
    for await (const event of provider(fake).stream(hello)) {
      if (event.type === 'text') break;
    }
    await withTimeout(fake.waitForClientAbort(), 5000, 'the upstream seeing the connection close');
    t.ok(fake.clientAborts >= 1);
  });

  t.test(`${h.name}: an already-aborted signal fails before any request`, async (t) => {
    const fake = await started(t, h.fake);
    const controller = new AbortController();
    controller.abort();
    const { error } = await drain(provider(fake).stream({ ...hello, signal: controller.signal }));
    t.equal(error?.kind, 'aborted');
    t.equal(fake.requests.length, 0);
  });

  t.test(`${h.name}: slow tokens arrive one by one, not all at the end`, async (t) => {
    const fake = await started(t, h.fake);
    fake.script({ chunks: ['a', 'b', 'c', 'd'], delayMsPerChunk: 80 });
    const stamps: number[] = [];
    for await (const event of provider(fake).stream(hello)) {
      if (event.type === 'text') stamps.push(performance.now());
    }
    t.equal(stamps.length, 4, 'four separate text events');
    // Three pauses of 80 ms separate the chunks; a buffered reply would show ~0.
    t.ok(stamps[3] - stamps[0] >= 80, `first and last text are spread in time (${Math.round(stamps[3] - stamps[0])} ms)`);
  });

  t.test(`${h.name}: a closed port is a retryable network error`, async (t) => {
    const fake = await started(t, h.fake);
    const adapter = provider(fake);
    await fake.close();
    const { error } = await drain(adapter.stream(hello));
    t.equal(error?.kind, 'network');
    t.equal(error?.retryable, true);
  });

  t.test(`${h.name}: aborting while waiting for the response is aborted, not timeout`, async (t) => {
    const root = await silentServer(t);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const { error } = await drain(h.at(root, 10_000).stream({ ...hello, signal: controller.signal }));
    t.equal(error?.kind, 'aborted');
  });

  t.test(`${h.name}: a response that never starts fails as timeout`, async (t) => {
    const root = await silentServer(t);
    const { error } = await drain(h.at(root, 150).stream(hello));
    t.equal(error?.kind, 'timeout');
    t.equal(error?.retryable, true);
  });
}
