// The simulated provider: deterministic output, pacing, tool calls, failures
// and abort, with no upstream at all.

import t from 'tap';
import { collectStream, SimulatedProvider, type ChatRequest, type StreamEvent } from '../../providers/index.js';
import { drain } from './conformance.js';

const ask = (text: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: 'sim',
  messages: [{ role: 'user', content: text }],
  ...extra,
});

t.test('simulated: the same seed and prompt give the same text', async (t) => {
  const a = await collectStream(new SimulatedProvider({ seed: 7 }).stream(ask('hello there')));
  const b = await collectStream(new SimulatedProvider({ seed: 7 }).stream(ask('hello there')));
  t.equal(a.text, b.text);
  t.ok(a.text.length > 0);
});

t.test('simulated: another prompt or seed gives other text', async (t) => {
  const base = await collectStream(new SimulatedProvider({ seed: 7 }).stream(ask('hello there')));
  const otherPrompt = await collectStream(new SimulatedProvider({ seed: 7 }).stream(ask('something else')));
  const otherSeed = await collectStream(new SimulatedProvider({ seed: 8 }).stream(ask('hello there')));
  t.not(base.text, otherPrompt.text);
  t.not(base.text, otherSeed.text);
});

t.test('simulated: it streams the configured number of tokens and reports them as usage', async (t) => {
  const reply = await collectStream(new SimulatedProvider({ tokens: 50, batchTokens: 8 }).stream(ask('count the words in this')));
  t.equal(reply.text.split(' ').length, 50);
  t.same(reply.usage, { type: 'usage', inputTokens: 5, outputTokens: 50 });
  t.equal(reply.stopReason, 'stop');
  // 50 tokens in batches of 8: 7 text events, then usage and stop.
  t.equal(reply.events, 9);
});

t.test('simulated: maxTokens below the configured count stops with length', async (t) => {
  const reply = await collectStream(new SimulatedProvider({ tokens: 40 }).stream(ask('x', { maxTokens: 10 })));
  t.equal(reply.text.split(' ').length, 10);
  t.equal(reply.stopReason, 'length');
});

t.test('simulated: scripted tool calls follow the text and stop with tool_calls', async (t) => {
  const provider = new SimulatedProvider({ tokens: 3, toolCalls: [{ name: 'search', arguments: { q: 'actors' } }] });
  const reply = await collectStream(provider.stream(ask('find')));
  t.same(reply.toolCalls, [{ id: 'sim_call_0', name: 'search', arguments: '{"q":"actors"}' }]);
  t.equal(reply.stopReason, 'tool_calls');
});

t.test('simulated: failWith fails after the given number of tokens with that kind', async (t) => {
  const provider = new SimulatedProvider({ tokens: 20, failWith: { kind: 'rate_limited', afterTokens: 5, retryAfterMs: 250 } });
  const { events, error } = await drain(provider.stream(ask('go')));
  const text = events.map((e) => (e.type === 'text' ? e.delta : '')).join('');
  t.equal(text.split(' ').length, 5, 'exactly five tokens before the failure');
  t.equal(error?.kind, 'rate_limited');
  t.equal(error?.retryAfterMs, 250);
  t.equal(error?.provider, 'simulated');
  t.notOk(events.some((e) => e.type === 'stop'));
});

t.test('simulated: failWith without afterTokens fails before any output', async (t) => {
  const { events, error } = await drain(new SimulatedProvider({ failWith: { kind: 'overloaded' } }).stream(ask('go')));
  t.same(events, []);
  t.equal(error?.kind, 'overloaded');
});

t.test('simulated: with latency, tokens arrive one per event, spread in time', async (t) => {
  const provider = new SimulatedProvider({ tokens: 4, latencyMs: 40 });
  const stamps: number[] = [];
  for await (const event of provider.stream(ask('slow'))) {
    if (event.type === 'text') stamps.push(performance.now());
  }
  t.equal(stamps.length, 4);
  t.ok(stamps[3] - stamps[0] >= 40, 'later tokens came later');
});

t.test('simulated: aborting mid-stream rejects with aborted', async (t) => {
  const controller = new AbortController();
  const provider = new SimulatedProvider({ tokens: 100, latencyMs: 20 });
  const events: StreamEvent[] = [];
  let kind: string | undefined;
  try {
    for await (const event of provider.stream(ask('stop me', { signal: controller.signal }))) {
      events.push(event);
      if (events.length === 2) controller.abort();
    }
  } catch (err) {
    kind = (err as { kind?: string }).kind;
  }
  t.equal(kind, 'aborted');
  t.equal(events.length, 2);
});

t.test('simulated: an abort during the first-token wait rejects promptly', async (t) => {
  const controller = new AbortController();
  const provider = new SimulatedProvider({ firstTokenMs: 60_000 });
  setTimeout(() => controller.abort(), 20);
  const started = performance.now();
  const { error } = await drain(provider.stream(ask('wait', { signal: controller.signal })));
  t.equal(error?.kind, 'aborted');
  t.ok(performance.now() - started < 30_000, 'did not wait for the first token');
});
