import t, { type Test } from 'tap';
import { agent, type AgentRun, type RunResult } from '../../actors/agent.js';
import { installToolbox, type AgentTool } from '../../actors/agent_tools.js';
import type { AgentConfig, RunEvent } from '../../actors/protocol.js';
import { ActorSystem, type ActorRef } from '../../runtime/index.js';
import type { ScriptedReply } from '../fakes/script.js';
import { OpenAIUpstream } from '../fakes/openai_upstream.js';

interface Harness {
  fake: OpenAIUpstream;
  events: RunEvent[];
  run(config?: Partial<AgentConfig>, opts?: { signal?: AbortSignal }): Promise<RunResult | undefined>;
}

async function harness(t: Test, ...replies: ScriptedReply[]): Promise<Harness> {
  const fake = new OpenAIUpstream();
  fake.script(...replies);
  await fake.start();
  const sys = new ActorSystem();
  t.teardown(async () => {
    await sys.shutdown(500);
    await fake.close();
    installToolbox(undefined);
  });
  const events: RunEvent[] = [];
  const router = sys.spawn<RunEvent>(() => ({ receive: (e) => { events.push(e); } }));
  return {
    fake,
    events,
    async run(config = {}, opts = {}) {
      const full: AgentConfig = {
        id: 'a', model: 'fake-model', provider: { kind: 'openai', apiKey: 'sk-test', baseURL: `${fake.url}/v1` }, ...config,
      };
      const ref: ActorRef<AgentRun> = sys.spawn<AgentRun>({ factory: agent, args: { config: full, router } });
      return ref.ask({
        t: 'run', runId: 'run-1', history: [{ role: 'user', content: 'go', at: 0 }],
        signal: opts.signal ?? new AbortController().signal, tenant: 'acme', sessionKey: 's',
      }, { timeoutMs: 20_000 }) as Promise<RunResult | undefined>;
    },
  };
}

/** A test tool: records when it ran; optional delay and fixed output. */
function tool(name: string, opts: { readOnly?: boolean; delayMs?: number; output?: (args: Record<string, unknown>) => string; log?: string[] } = {}): AgentTool {
  return {
    spec: { name, description: name, parameters: { type: 'object', properties: {} } },
    readOnly: opts.readOnly ?? true,
    group: 'test',
    async run(args, ctx) {
      opts.log?.push(`start ${name}`);
      if (opts.delayMs) await new Promise((r, j) => {
        const timer = setTimeout(r, opts.delayMs);
        ctx.signal.addEventListener('abort', () => { clearTimeout(timer); j(new Error('aborted')); }, { once: true });
      });
      opts.log?.push(`end ${name}`);
      return { content: opts.output ? opts.output(args) : `${name} ok` };
    },
  };
}

t.test('a turn with tool calls: the model calls tools, sees results, then answers', async (t) => {
  const h = await harness(t,
    { toolCalls: [{ id: 'c1', name: 'weather', arguments: { city: 'Oslo' } }] },
    { text: 'It is sunny in Oslo.' });
  installToolbox({ tools: () => [tool('weather', { output: (a) => `sunny in ${String(a.city)}` })] });
  const result = await h.run();
  t.equal(result?.text, 'It is sunny in Oslo.');
  t.equal(result?.stopReason, 'stop');
  const second = h.fake.requests[1].body as { messages: { role: string; content: string; tool_call_id?: string }[]; tools: unknown[] };
  t.match(second.messages.at(-1), { role: 'tool', tool_call_id: 'c1', content: 'sunny in Oslo' });
  t.ok(second.tools.length >= 1, 'tool specs were sent to the model');
  const toolEvents = h.events.filter((e) => e[1] === 'chat.tool').map((e) => e[2]);
  t.match(toolEvents, [{ name: 'weather', phase: 'start' }, { name: 'weather', phase: 'end', ok: true }]);
  t.match(h.events.at(-1), ['run-1', 'chat.final', { text: 'It is sunny in Oslo.' }]);
});

t.test('read-only tool calls run in parallel and their results keep call order', async (t) => {
  const h = await harness(t,
    { toolCalls: [{ id: 'a', name: 'slow', arguments: {} }, { id: 'b', name: 'fast', arguments: {} }] },
    { text: 'done' });
  const log: string[] = [];
  installToolbox({ tools: () => [tool('slow', { delayMs: 60, log }), tool('fast', { delayMs: 5, log })] });
  await h.run();
  t.same(log, ['start slow', 'start fast', 'end fast', 'end slow'], 'both started before either finished');
  const msgs = (h.fake.requests[1].body as { messages: { role: string; tool_call_id?: string }[] }).messages.filter((m) => m.role === 'tool');
  t.same(msgs.map((m) => m.tool_call_id), ['a', 'b'], 'results are in call order');
});

t.test('tools that are not read-only run one at a time', async (t) => {
  const h = await harness(t,
    { toolCalls: [{ id: 'a', name: 'w1', arguments: {} }, { id: 'b', name: 'w2', arguments: {} }] },
    { text: 'done' });
  const log: string[] = [];
  installToolbox({ tools: () => [tool('w1', { readOnly: false, delayMs: 20, log }), tool('w2', { readOnly: false, delayMs: 1, log })] });
  await h.run();
  t.same(log, ['start w1', 'end w1', 'start w2', 'end w2']);
});

t.test('loop detection warns the model with a system note, then stops the run with a clear reason', async (t) => {
  const same: ScriptedReply = { toolCalls: [{ id: 'x', name: 'probe', arguments: { q: 1 } }] };
  const h = await harness(t, same, same, same, same, same, same, same);
  installToolbox({ tools: () => [tool('probe', { readOnly: false, output: () => 'no change' })] });
  const result = await h.run();
  t.equal(result?.stopReason, 'loop_detected');
  t.match(result?.text, /stopped: probe was called 5 times/);
  t.equal(h.fake.requests.length, 5, 'the fifth identical call ended the run');
  const fourth = JSON.stringify(h.fake.requests[3].body);
  t.match(fourth, /\[system note\] Possible loop/, 'the warning reached the model');
});

t.test('the iteration limit ends a run', async (t) => {
  const replies = [1, 2, 3].map((i): ScriptedReply => ({ toolCalls: [{ id: `c${i}`, name: 'step', arguments: { i } }] }));
  const h = await harness(t, ...replies);
  let n = 0;
  installToolbox({ tools: () => [tool('step', { readOnly: false, output: () => `step ${++n}` })] });
  const result = await h.run({ maxIterations: 3 });
  t.equal(result?.stopReason, 'max_iterations');
  t.equal(h.fake.requests.length, 3);
});

t.test('tool policy: denied tools are not offered to the model', async (t) => {
  const h = await harness(t, { text: 'ok' });
  installToolbox({ tools: () => [tool('allowed'), tool('secret', { readOnly: false })] });
  await h.run({ tools: { deny: ['secret', 'group:agent'] } });
  const names = ((h.fake.requests[0].body as { tools: { function: { name: string } }[] }).tools).map((x) => x.function.name);
  t.same(names, ['allowed']);
});

t.test('a sub-agent answers a spawn_agent call; past the depth limit the model gets a clear tool error', async (t) => {
  const h = await harness(t,
    { toolCalls: [{ id: 's1', name: 'spawn_agent', arguments: { task: 'summarise' } }] }, // parent
    { toolCalls: [{ id: 's2', name: 'spawn_agent', arguments: { task: 'deeper' } }] }, // the sub-agent tries to spawn
    { text: 'sub-agent answer' }, // the sub-agent, after its spawn was refused
    { text: 'parent answer' });
  const result = await h.run({ subagents: { maxDepth: 1 } });
  t.equal(result?.text, 'parent answer');
  const subSecond = JSON.stringify(h.fake.requests[2].body);
  t.match(subSecond, /depth limit reached/, 'the sub-agent was told it cannot go deeper');
  const parentSecond = h.fake.requests[3].body as { messages: { role: string; content: string }[] };
  t.match(parentSecond.messages.at(-1), { role: 'tool', content: 'sub-agent answer' });
});

t.test('fan-out beyond the limit is refused with a tool error', async (t) => {
  const h = await harness(t,
    { toolCalls: [1, 2, 3].map((i) => ({ id: `s${i}`, name: 'spawn_agent', arguments: { task: `t${i}` } })) },
    { text: 'a' }, { text: 'b' },
    { text: 'parent done' });
  const result = await h.run({ subagents: { maxDepth: 1, maxFanOut: 2, maxConcurrentSubagents: 2 } });
  t.equal(result?.text, 'parent done');
  const last = h.fake.requests.at(-1)?.body as { messages: { role: string; content: string }[] };
  const tools = last.messages.filter((m) => m.role === 'tool').map((m) => m.content);
  t.equal(tools.length, 3);
  t.match(tools[2], /fan-out limit reached/);
});

t.test('aborting a run cancels a running tool and the provider stream', async (t) => {
  const h = await harness(t, { toolCalls: [{ id: 'x', name: 'hang', arguments: {} }] }, { text: 'never' });
  installToolbox({ tools: () => [tool('hang', { delayMs: 60_000 })] });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  const started = Date.now();
  const result = await h.run({}, { signal: ac.signal });
  t.ok(Date.now() - started < 5_000, 'the hung tool did not hold the run');
  t.equal(result?.stopReason, 'aborted');
  t.match(h.events.at(-1), ['run-1', 'chat.final', { stopReason: 'aborted' }]);
});
