// Agents by name end to end: delegate (sync and async) and handoff through the
// gateway, with allow lists, loop detection across agents and the depth limit.
import t from 'tap';
import { Client, eventually, sent, startTeamGateway, userMessages } from './teams_harness.js';

t.test('delegation: sync waits for the result, async returns a task id, A → B → A is caught, depth is bounded', async (t) => {
  const { gw, fakes, token } = await startTeamGateway(t, {
    a: {
      allowAgents: ['b', 'c'],
      script: [
        { toolCalls: [{ id: 'd1', name: 'delegate', arguments: { agent: 'b', task: 'compute the answer', mode: 'sync' } }] },
        { text: 'a has it' },
        { toolCalls: [{ id: 'd2', name: 'delegate', arguments: { agent: 'c', task: 'look it up later', mode: 'async' } }] },
        { text: 'c is on it' },
      ],
      fallback: { text: 'thanks' },
    },
    b: {
      allowAgents: ['a', 'c'], delegationDepth: 1,
      script: [
        { toolCalls: [{ id: 'x1', name: 'delegate', arguments: { agent: 'a', task: 'back to you' } }, { id: 'x2', name: 'delegate', arguments: { agent: 'c', task: 'deeper' } }] },
        { text: 'B result: 42' },
      ],
    },
    c: { script: [{ text: 'C result: found' }] },
  }, []);
  const client = await Client.open(gw.port, token);
  t.teardown(() => client.close());

  const first = await client.turn({ message: 'what is the answer', agent: 'a', sessionKey: 'deleg' });
  t.match(first, { event: 'chat.final', payload: { text: 'a has it' } });
  t.match(sent(fakes.get('a'), 1).at(-1), { role: 'tool', tool_call_id: 'd1', content: 'B result: 42' }, 'sync: the result came back as the tool result');
  const b = sent(fakes.get('b'), 1);
  t.match(b.find((m) => m.tool_call_id === 'x1')?.content, /loop detected: a → b → a/, 'A → B → A is refused');
  t.match(b.find((m) => m.tool_call_id === 'x2')?.content, /depth limit reached \(max depth 1\)/, 'the depth limit holds');

  const second = await client.turn({ message: 'and the other thing', agent: 'a', sessionKey: 'deleg' });
  t.match(second, { event: 'chat.final', payload: { text: 'c is on it' } });
  t.match(sent(fakes.get('a'), 3).at(-1)?.content, /"taskId":"[0-9a-f-]+"/, 'async: a task id at once');
  // The async result arrives in a's session as a message of its own.
  t.ok(await eventually(() => userMessages(fakes.get('a')).some((m) => m.includes('C result: found'))), 'the async result reached the delegating session');
  t.equal(fakes.get('c')?.requests.length, 1);
});

t.test('handoff: the user is told, and later turns of the session go to the new agent', async (t) => {
  const { gw, fakes, token } = await startTeamGateway(t, {
    front: { allowAgents: ['billing'], script: [{ toolCalls: [{ id: 'h', name: 'handoff', arguments: { agent: 'billing', reason: 'billing questions go to billing' } }] }] },
    billing: { script: [{ text: 'Billing here: your invoice is paid.' }] },
  }, []);
  const client = await Client.open(gw.port, token);
  t.teardown(() => client.close());
  const first = await client.turn({ message: 'is my invoice paid?', sessionKey: 'desk', agent: 'front' });
  t.match(first, { event: 'chat.final', payload: { stopReason: 'handoff', handoff: { to: 'billing' }, text: /\[handed over to billing: billing questions go to billing\]/ } });
  const second = await client.turn({ message: 'so, is it?', sessionKey: 'desk', agent: 'front' });
  t.match(second, { event: 'chat.final', payload: { text: 'Billing here: your invoice is paid.' } });
  t.equal(fakes.get('front')?.requests.length, 1, 'front answered no more turns');
  t.equal(fakes.get('billing')?.requests.length, 1);
});
