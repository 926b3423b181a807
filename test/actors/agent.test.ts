import t, { type Test } from 'tap';
import { agent, memoryTeam, type AgentRun, type RunResult } from '../../actors/agent.js';
import { installToolbox, type AgentTool } from '../../actors/agent_tools.js';
import type { ProviderSpec } from '../../actors/provider/actor.js';
import { providerHost, type ProviderHostMessage } from '../../actors/provider/host.js';
import type { AgentConfig, RunEvent, StoredMessage } from '../../actors/protocol.js';
import type { TeamRunContext } from '../../actors/team/protocol.js';
import { ActorSystem, type ActorRef } from '../../runtime/index.js';
import type { ScriptedReply } from '../fakes/script.js';
import { OpenAIUpstream } from '../fakes/openai_upstream.js';

interface Harness {
  fake: OpenAIUpstream;
  events: RunEvent[];
  /** Sees each event as the router gets it (e.g. to abort mid-stream). */
  onEvent?: (event: RunEvent) => void;
  run(config?: Partial<AgentConfig>, opts?: { signal?: AbortSignal; history?: StoredMessage[]; team?: TeamRunContext }): Promise<RunResult | undefined>;
  /** Starts this thread's provider actors (for agents with a `chain`), with the fake as provider `up`. */
  providers(): Promise<void>;
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
  const h: Harness = {
    fake,
    events,
    async run(config = {}, opts = {}) {
      const full: AgentConfig = {
        id: 'a', model: 'fake-model', provider: { kind: 'openai', apiKey: 'sk-test', baseURL: `${fake.url}/v1` }, ...config,
      };
      const ref: ActorRef<AgentRun> = sys.spawn<AgentRun>({ factory: agent, args: { config: full, router } });
      return ref.ask({
        t: 'run', runId: 'run-1', history: opts.history ?? [{ role: 'user', content: 'go', at: 0 }],
        signal: opts.signal ?? new AbortController().signal, tenant: 'acme', sessionKey: 's',
        ...(opts.team === undefined ? {} : { team: opts.team }),
      }, { timeoutMs: 20_000 }) as Promise<RunResult | undefined>;
    },
    async providers() {
      const specs: ProviderSpec[] = [{ id: 'up', config: { kind: 'openai', apiKey: 'sk-test', baseURL: `${fake.url}/v1` } }];
      const host = sys.spawn<ProviderHostMessage>({ factory: providerHost, args: { specs } });
      await host.ask({ t: 'metrics' }, { timeoutMs: 5_000 }); // answered once its registry is installed
    },
  };
  const router = sys.spawn<RunEvent>(() => ({
    receive: (e) => {
      events.push(e);
      h.onEvent?.(e);
    },
  }));
  return h;
}

/** A test tool: records when it ran; optional delay and fixed output. */
function tool(name: string, opts: {
  readOnly?: boolean; delayMs?: number; output?: (args: Record<string, unknown>) => string; log?: string[]; group?: string;
  onStart?: () => void;
} = {}): AgentTool {
  return {
    spec: { name, description: name, parameters: { type: 'object', properties: {} } },
    readOnly: opts.readOnly ?? true,
    group: opts.group ?? 'test',
    async run(args, ctx) {
      opts.log?.push(`start ${name}`);
      opts.onStart?.();
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

t.test('a sub-agent answers a spawn_agent call; past the default depth limit (1) the model gets a clear tool error', async (t) => {
  const h = await harness(t,
    { toolCalls: [{ id: 's1', name: 'spawn_agent', arguments: { task: 'summarise' } }] }, // parent
    { toolCalls: [{ id: 's2', name: 'spawn_agent', arguments: { task: 'deeper' } }] }, // the sub-agent tries to spawn
    { text: 'sub-agent answer' }, // the sub-agent, after its spawn was refused
    { text: 'parent answer' });
  const result = await h.run(); // no `subagents`: the defaults apply
  t.equal(result?.text, 'parent answer');
  const subSecond = JSON.stringify(h.fake.requests[2].body);
  t.match(subSecond, /depth limit reached/, 'the sub-agent was told it cannot go deeper');
  const parentSecond = h.fake.requests[3].body as { messages: { role: string; content: string }[] };
  t.match(parentSecond.messages.at(-1), { role: 'tool', content: 'sub-agent answer' });
  t.same(result?.usage, { inputTokens: 4 * 7, outputTokens: 1 + 1 + 2 + 2 }, "the sub-agent's replies count in the parent run's usage");
});

t.test('memory scope team: the task\'s team, else the one team the agent leads; never a delegation, never one of several', async (t) => {
  const member = (teamId: string): { team: TeamRunContext } => ({ team: { role: 'member', teamId, taskId: 'x', lease: { id: 'x', token: 'k' }, attempt: 'k' } });
  t.equal(memoryTeam({}, member('red')), 'red', 'a member or reviewer: the team of its task');
  t.equal(memoryTeam({ leads: ['red'] }, {}), 'red', 'a lead of exactly one team');
  t.equal(memoryTeam({ leads: ['red', 'blue'] }, {}), undefined, 'a lead of several teams: no single team');
  t.equal(memoryTeam({}, member('@boss')), undefined, 'a delegation (the implicit @agent team) is no team');
  t.equal(memoryTeam({ leads: ['blue'] }, member('@boss')), 'blue', 'a delegate that leads a team keeps its own team');
  t.equal(memoryTeam({}, {}), undefined, 'outside any team');
});

t.test('tool calls carry the agent and its team; a member\'s sub-agents work in the same team', async (t) => {
  const seen: string[] = [];
  installToolbox({
    tools: () => [{
      spec: { name: 'whoami', description: 'whoami', parameters: { type: 'object', properties: {} } }, readOnly: false,
      run: (_args, ctx) => {
        seen.push(`${ctx.agentId}/${ctx.teamId ?? '-'}`);
        return Promise.resolve({ content: 'ok' });
      },
    }],
  });
  const h = await harness(t,
    { toolCalls: [{ id: 'w1', name: 'whoami', arguments: {} }] }, { toolCalls: [{ id: 's1', name: 'spawn_agent', arguments: { task: 'check' } }] },
    { toolCalls: [{ id: 'w2', name: 'whoami', arguments: {} }] }, { text: 'sub done' }, // the sub-agent
    { text: 'done' });
  const team: TeamRunContext = { role: 'member', teamId: 'red', taskId: 't1', lease: { id: 't1', token: 'k' }, attempt: 'k' };
  t.equal((await h.run({}, { team }))?.text, 'done');
  t.same(seen, ['a/red', 'a/red']);
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
  const ac = new AbortController();
  // Aborted once the tool is running, not after a fixed delay that a loaded machine can beat to the first request.
  installToolbox({ tools: () => [tool('hang', { delayMs: 60_000, onStart: () => setImmediate(() => ac.abort()) })] });
  const started = Date.now();
  const result = await h.run({}, { signal: ac.signal });
  t.ok(Date.now() - started < 5_000, 'the hung tool did not hold the run');
  t.equal(result?.stopReason, 'aborted');
  t.match(h.events.at(-1), ['run-1', 'chat.final', { stopReason: 'aborted' }]);
  t.equal(h.fake.requests.length, 1, 'the provider was not called again after the abort');
});

/** The request bodies as the OpenAI fake recorded them. */
interface Sent {
  messages: { role: string; content: string | null; tool_call_id?: string; tool_calls?: { id: string }[] }[];
  tools?: { function: { name: string } }[];
}
const body = (h: Harness, i: number): Sent => h.fake.requests[i].body as Sent;

/** Every tool result answers a call of an assistant message in the same request. */
function pairsIntact(t: Test, sent: Sent): void {
  const callIds = new Set(sent.messages.flatMap((m) => m.tool_calls?.map((c) => c.id) ?? []));
  const results = sent.messages.filter((m) => m.role === 'tool');
  t.ok(results.length > 0, 'the request carries tool results');
  for (const r of results) t.ok(callIds.has(r.tool_call_id ?? ''), `tool result ${r.tool_call_id} has its call`);
}

/** A history long enough to need compaction once a tool turn adds to it, yet short enough for the first call. */
function longHistory(): StoredMessage[] {
  const turns = Array.from({ length: 6 }, (_, i): StoredMessage => ({
    role: i % 2 === 0 ? 'user' : 'assistant', content: `turn ${i} ${'words '.repeat(30)}`, at: 0,
  }));
  return [...turns, { role: 'user', content: 'go', at: 0 }];
}

const bulkyTurn: ScriptedReply = {
  toolCalls: [{ id: 'k1', name: 'lookup', arguments: { q: 'a' } }, { id: 'k2', name: 'lookup', arguments: { q: 'b' } }],
};
const bulkyLookup = (): AgentTool => tool('lookup', { output: (a) => `${String(a.q)}: ${'x'.repeat(600)}` });

t.test('compaction: past contextTokens older turns become a summary asked of the chain, tool calls stay with their results', async (t) => {
  const h = await harness(t, bulkyTurn, { text: 'They discussed the launch.' }, { text: 'final answer' });
  installToolbox({ tools: () => [bulkyLookup()] });
  await h.providers();
  // `provider` is a placeholder beside the chain: the summary must come through the chain too.
  const result = await h.run(
    { provider: { kind: 'simulated' }, chain: [{ providerId: 'up', model: 'fake-model' }], contextTokens: 400 },
    { history: longHistory() },
  );
  t.equal(result?.text, 'final answer');
  t.equal(h.fake.requests.length, 3, 'tool turn, summary, answer: all through the chain');
  const summaryRequest = body(h, 1);
  t.match(summaryRequest.messages[0], { role: 'system', content: /Summarise/ });
  t.match(summaryRequest.messages[1].content, /turn 0/, 'the older turns were sent to be summarised');
  t.notOk(summaryRequest.tools, 'no tools on the summary request');
  const after = body(h, 2);
  t.same(after.messages[0], { role: 'user', content: '[summary of earlier conversation]\nThey discussed the launch.' });
  t.notMatch(JSON.stringify(after.messages), /turn 0/, 'the older turns were replaced');
  t.same(after.messages.filter((m) => m.role === 'tool').map((m) => m.tool_call_id), ['k1', 'k2']);
  pairsIntact(t, after);
});

t.test('compaction: when the summary call fails, an extractive summary stands in and the run still answers', async (t) => {
  const h = await harness(t, bulkyTurn, { status: 500, errorMessage: 'summary broke' }, { text: 'final answer' });
  installToolbox({ tools: () => [bulkyLookup()] });
  const result = await h.run({ contextTokens: 400 }, { history: longHistory() });
  t.equal(result?.text, 'final answer');
  t.equal(result?.stopReason, 'stop');
  const after = body(h, 2);
  t.match(after.messages[0], { role: 'user', content: /^\[summary of earlier conversation\]\nuser: turn 0 words/ });
  pairsIntact(t, after);
});

t.test('spawns beyond maxConcurrentSubagents queue: the sub-agents\' model calls do not overlap', async (t) => {
  const slow: ScriptedReply = { text: 'one two three four five', delayMsPerChunk: 30 };
  const h = await harness(t,
    { toolCalls: [{ id: 's1', name: 'spawn_agent', arguments: { task: 'a' } }, { id: 's2', name: 'spawn_agent', arguments: { task: 'b' } }] },
    slow, slow,
    { text: 'parent done' });
  const result = await h.run({ subagents: { maxConcurrentSubagents: 1 } });
  t.equal(result?.text, 'parent done');
  t.same(h.fake.timeline, ['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3'], 'one sub-agent at a time');
  const results = body(h, 3).messages.filter((m) => m.role === 'tool').map((m) => m.content);
  t.same(results, ['one two three four five', 'one two three four five'], 'both waited their turn; neither was refused');
});

t.test('without maxIterations a model that keeps calling tools is stopped after 20 calls', async (t) => {
  const replies = Array.from({ length: 25 }, (_, i): ScriptedReply => ({ toolCalls: [{ id: `c${i}`, name: 'step', arguments: { i } }] }));
  const h = await harness(t, ...replies);
  let n = 0;
  // Arguments and results differ every time, so loop detection has nothing to catch.
  installToolbox({ tools: () => [tool('step', { readOnly: false, output: () => `step ${++n}` })] });
  const result = await h.run();
  t.equal(result?.stopReason, 'max_iterations');
  t.equal(h.fake.requests.length, 20);
  t.notMatch(JSON.stringify(h.fake.requests.map((r) => r.body)), /Possible loop/, 'no loop warning on the way');
});

t.test('aborting mid-stream closes the upstream request; chat.final carries the text streamed so far', async (t) => {
  const words = Array.from({ length: 200 }, (_, i) => `w${i} `).join('');
  const h = await harness(t, { text: words, delayMsPerChunk: 20 });
  const ac = new AbortController();
  let deltas = 0;
  h.onEvent = (e) => {
    if (e[1] === 'chat.delta' && ++deltas === 3) ac.abort();
  };
  const result = await h.run({}, { signal: ac.signal });
  const sawAbort = await Promise.race([h.fake.waitForClientAbort().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 5_000))]);
  t.ok(sawAbort, 'the upstream saw the client close the stream');
  t.equal(h.fake.clientAborts, 1);
  const streamed = h.events.filter((e) => e[1] === 'chat.delta').map((e) => String(e[2].delta)).join('');
  t.ok(streamed.length > 0 && streamed.length < words.length, 'some text streamed, not all');
  t.equal(result?.stopReason, 'aborted');
  t.equal(result?.text, streamed);
  // The usage so far travels with it (none yet: the aborted reply never reported any).
  t.same(h.events.at(-1), ['run-1', 'chat.final', { runId: 'run-1', text: streamed, stopReason: 'aborted', usage: { inputTokens: 0, outputTokens: 0 } }]);
  t.equal(h.fake.requests.length, 1);
});

t.test('a provider error mid-run ends the run with chat.error and the catalogue code', async (t) => {
  const h = await harness(t,
    { toolCalls: [{ id: 'c1', name: 'weather', arguments: { city: 'Oslo' } }] },
    { status: 400, errorMessage: 'bad tool schema' });
  installToolbox({ tools: () => [tool('weather')] });
  const result = await h.run();
  t.equal(result, undefined);
  t.match(h.events.at(-1), ['run-1', 'chat.error', { error: { code: 'INVALID_REQUEST', retryable: false, message: /bad tool schema/ } }]);
  t.notOk(h.events.some((e) => e[1] === 'chat.final'), 'no chat.final');
});

t.test('chat.final names the provider and model that answered, and sums the usage of every reply, cached input included', async (t) => {
  const h = await harness(t,
    { toolCalls: [{ id: 'c1', name: 'weather', arguments: { city: 'Oslo' } }], usage: { input: 10, output: 2, cacheRead: 4 } },
    { text: 'sunny', usage: { input: 20, output: 1, cacheRead: 6 } });
  installToolbox({ tools: () => [tool('weather')] });
  await h.providers();
  await h.run({ provider: { kind: 'simulated' }, chain: [{ providerId: 'up', model: 'fake-model' }] });
  t.match(h.events.at(-1), ['run-1', 'chat.final', {
    provider: 'up', model: 'fake-model', usage: { inputTokens: 30, outputTokens: 3, cachedTokens: 10 },
  }]);
});

t.test('a run that fails after some replies reports what it used with its chat.error', async (t) => {
  const h = await harness(t,
    { toolCalls: [{ id: 'c1', name: 'weather', arguments: { city: 'Oslo' } }], usage: { input: 9, output: 2 } },
    { status: 400, errorMessage: 'bad tool schema' });
  installToolbox({ tools: () => [tool('weather')] });
  await h.run();
  t.match(h.events.at(-1), ['run-1', 'chat.error', {
    error: { code: 'INVALID_REQUEST' }, usage: { inputTokens: 9, outputTokens: 2 }, provider: 'openai', model: 'fake-model',
  }]);
});

t.test('tool policy: an allow list offers the model only the groups and tools it names', async (t) => {
  const h = await harness(t, { text: 'ok' }, { text: 'ok' });
  installToolbox({ tools: () => [tool('clock'), tool('fetch', { group: 'web' }), tool('write', { group: 'fs', readOnly: false })] });
  const offered = (i: number): string[] => (body(h, i).tools ?? []).map((x) => x.function.name);
  await h.run({ tools: { allow: ['group:agent'] } });
  t.same(offered(0), ['spawn_agent', 'sessions_list'], 'group:agent holds the agent\'s own tools');
  await h.run({ tools: { allow: ['group:web', 'clock', 'sessions_list'], deny: ['group:fs'] } });
  t.same(offered(1), ['clock', 'fetch', 'sessions_list']);
});

t.test('chat.tool events carry the call\'s arguments and its result, clamped', async (t) => {
  const h = await harness(t, { toolCalls: [{ id: 'c1', name: 'big', arguments: { q: 'z'.repeat(3_000) } }] }, { text: 'done' });
  installToolbox({ tools: () => [tool('big', { output: () => 'r'.repeat(5_000) })] });
  await h.run();
  const [start, end] = h.events.filter((e) => e[1] === 'chat.tool').map((e) => e[2]);
  t.match(start, { name: 'big', phase: 'start', callId: 'c1', arguments: /^\{"q":"zzz/ });
  t.match(end, { name: 'big', phase: 'end', callId: 'c1', ok: true, result: /^rrr/ });
  t.match(start.arguments, /\[output truncated: 2000 of 3008 characters shown\]$/);
  t.match(end.result, /\[output truncated: 2000 of 5000 characters shown\]$/);
  t.match(JSON.stringify(body(h, 1)), new RegExp(`"content":"r{5000}"`), 'the model still got the whole result');
});
