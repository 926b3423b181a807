// The agent loop's guards through the whole gateway: a real WebSocket client,
// the session and agent actors on a worker, the OpenAI SDK against the fake.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { loadConfig } from '../../gateway/config.js';
import { startGateway, type RunningGateway } from '../../gateway/gateway.js';
import { signToken } from '../../security/jwt.js';
import { OpenAIUpstream } from '../fakes/openai_upstream.js';
import type { ScriptedReply } from '../fakes/script.js';
import { wsTurn } from './ws_turn.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';

interface Event { event: string; payload: Record<string, unknown> }
interface Sent { messages: { role: string; content: string | null; tool_call_id?: string; tool_calls?: { id: string }[] }[] }

async function setup(t: Test, ...replies: ScriptedReply[]): Promise<{ fake: OpenAIUpstream; gw: RunningGateway }> {
  const fake = new OpenAIUpstream();
  fake.script(...replies);
  await fake.start();
  t.teardown(() => fake.close());
  const gw = await startGateway({
    ...loadConfig({
      TROUPE_DATA_DIR: mkdtempSync(join(tmpdir(), 'troupe-loop-')), TROUPE_PORT: '0', TROUPE_WORKERS: '1', TROUPE_JWT_SECRET: SECRET, TROUPE_STORE: 'none',
    }),
    agents: [{ id: 'a', model: 'fake-model', provider: { kind: 'openai', apiKey: 'sk-test', baseURL: `${fake.url}/v1` } }],
  });
  t.teardown(() => gw.shutdown());
  return { fake, gw };
}

/** One chat.send over a fresh connection; resolves with every event of the run. */
async function turn(gw: RunningGateway, message: string): Promise<Event[]> {
  const token = await signToken({ secret: SECRET, tenant: 'acme', user: 'u', ttlSec: 600 });
  return (await wsTurn(gw.port, token, { message, sessionKey: 'loop' })).events;
}

const toolEvents = (events: Event[]): Record<string, unknown>[] => events.filter((e) => e.event === 'chat.tool').map((e) => e.payload);

t.test('loop detection warns the model, then stops the run with stop reason loop_detected', async (t) => {
  const same: ScriptedReply = { toolCalls: [{ id: 'l', name: 'list_files', arguments: { path: '.' } }] };
  const { fake, gw } = await setup(t, same, same, same, same, same, same, { text: 'never sent' });
  const events = await turn(gw, 'look around');
  t.match(events.at(-1), { event: 'chat.final', payload: { stopReason: 'loop_detected', text: /stopped: list_files was called 5 times/ } });
  t.equal(fake.requests.length, 5, 'the fifth identical call with the same result ended the run');
  t.notMatch(JSON.stringify(fake.requests[2].body), /Possible loop/, 'no warning before the third call');
  t.match(JSON.stringify(fake.requests[3].body), /\[system note\] Possible loop: list_files was called 3 times/, 'the warning reached the model');

  // chat.tool over the wire: the call's arguments on start, the text the model got on end.
  const calls = toolEvents(events);
  t.equal(calls.length, 10, 'a start and an end for each of the five calls');
  t.match(calls[0], { name: 'list_files', phase: 'start', callId: 'l', arguments: '{"path":"."}' });
  const modelGot = (fake.requests[1].body as Sent).messages.find((m) => m.role === 'tool')?.content;
  t.ok(typeof modelGot === 'string' && modelGot.length > 0);
  t.match(calls[1], { name: 'list_files', phase: 'end', callId: 'l', ok: true, result: modelGot });
});

t.test('a sub-agent that tries to spawn gets the depth limit as its tool result', async (t) => {
  const { fake, gw } = await setup(t,
    { toolCalls: [{ id: 'p1', name: 'spawn_agent', arguments: { task: 'research it' } }] }, // the agent
    { toolCalls: [{ id: 'c1', name: 'spawn_agent', arguments: { task: 'go deeper' } }] }, // its sub-agent
    { text: 'sub-agent answer' },
    { text: 'parent answer' });
  const events = await turn(gw, 'delegate this');
  t.match(events.at(-1), { event: 'chat.final', payload: { text: 'parent answer', stopReason: 'stop' } });
  t.equal(fake.requests.length, 4);
  const sub = (fake.requests[2].body as Sent).messages;
  t.match(sub[0], { role: 'user', content: 'research it' }, 'the sub-agent starts from its task alone');
  t.match(sub.at(-1), { role: 'tool', tool_call_id: 'c1', content: /depth limit reached \(max depth 1\)/ });
  const parent = (fake.requests[3].body as Sent).messages;
  t.match(parent.at(-1), { role: 'tool', tool_call_id: 'p1', content: 'sub-agent answer' });
  t.same(toolEvents(events).map((e) => `${String(e.name)}:${String(e.phase)}`), ['spawn_agent:start', 'spawn_agent:end'],
    'the client sees the agent\'s own calls, not its sub-agent\'s');
  t.match(toolEvents(events)[1], { ok: true, result: 'sub-agent answer' });
});

t.test('chat.tool events carry credentials scrubbed; the model gets the text as the tool returned it', async (t) => {
  const key = 'sk-proj-abcdefghijklmnopqrstuvwxyz012345';
  const { fake, gw } = await setup(t,
    { toolCalls: [{ id: 'w', name: 'write_file', arguments: { path: 'env.txt', content: `OPENAI_KEY=${key}` } }] },
    { toolCalls: [{ id: 'r', name: 'read_file', arguments: { path: 'env.txt' } }] },
    { text: 'done' });
  const events = await turn(gw, 'store and read');
  const calls = toolEvents(events);
  t.equal(calls.length, 4);
  t.notMatch(JSON.stringify(calls), key, 'the key never reaches the client in tool events');
  t.match(String(calls[0].arguments), /\[REDACTED\]/, 'the arguments are scrubbed');
  t.match(String(calls[3].result), /\[REDACTED\]/, 'the result is scrubbed');
  t.match(JSON.stringify(fake.requests[2].body), key, 'the model got the file as written');
});

t.test('progress: a run sends only the events its client asked for', async (t) => {
  const reply = (): ScriptedReply[] => [{ text: 'checking ', toolCalls: [{ id: 'd', name: 'datetime', arguments: {} }] }, { text: 'it is late' }];
  const { gw } = await setup(t, ...reply(), ...reply(), ...reply());
  const caller = { tenant: 'acme', user: 'u', scopes: [] };
  const names = async (progress?: 'all' | 'text' | 'none'): Promise<string[]> => {
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      gw.backend.chatSend(caller, { message: 'time?', stateless: true, ...(progress ? { progress } : {}) }, (event) => {
        seen.push(event);
        if (event === 'chat.final' || event === 'chat.error') resolve();
      }).catch(reject);
    });
    return [...new Set(seen)];
  };
  t.same(await names(), ['chat.delta', 'chat.tool', 'chat.final'], 'default: everything');
  t.same(await names('text'), ['chat.delta', 'chat.final'], 'text: deltas, no tool events');
  t.same(await names('none'), ['chat.final'], 'none: the final event only');
});
