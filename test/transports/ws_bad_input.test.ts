/**
 * Every kind of bad frame gets a clear error (or, where RFC 6455 demands it, a
 * close), and a second, well-behaved connection keeps being served.
 */
import t from 'tap';
import { pack } from 'msgpackr';
import { Client, errorOf, start, type Frame, type Started, type TapTest } from './harness.js';

async function badFrame(
  t: TapTest,
  send: (c: Client) => void,
  expect: { reason: string; code?: string },
  opts: { protocol?: string } = {},
): Promise<{ s: Started; bad: Client; res: Frame }> {
  const s = await start(t);
  const bystander = await Client.connected(s.wsUrl, 'tok-bob');
  const bad = await Client.open(s.wsUrl, opts);
  t.equal((await bad.request('connect', { token: 'tok-alice' })).ok, true);
  const after = bad.frames.length;
  send(bad);
  const res = await bad.waitFor((f) => f.type === 'res' && bad.frames.indexOf(f) >= after, 'error frame');
  t.equal(res.ok, false);
  t.equal(errorOf(res).code, expect.code ?? 'INVALID_REQUEST');
  t.equal(errorOf(res).reason, expect.reason);
  t.equal((await bad.request('agents.list')).ok, true, 'the offending connection is still usable');
  t.equal((await bystander.request('agents.list')).ok, true, 'another connection is still served');
  bad.close();
  bystander.close();
  return { s, bad, res };
}

t.test('malformed JSON is INVALID_REQUEST malformed_json', async (t) => {
  await badFrame(t, (c) => c.sendRaw('{"type":"req",'), { reason: 'malformed_json' });
});

t.test('a JSON frame that is not an object is INVALID_REQUEST not_an_object', async (t) => {
  await badFrame(t, (c) => c.sendRaw('[1,2,3]'), { reason: 'not_an_object' });
});

t.test('an unknown method is INVALID_REQUEST unknown_method and echoes the id', async (t) => {
  const { res } = await badFrame(t, (c) => c.sendRaw(JSON.stringify({ type: 'req', id: 'x1', method: 'rm.rf', params: {} })), {
    reason: 'unknown_method',
  });
  t.equal(res.id, 'x1');
});

t.test('a method name from Object.prototype is still an unknown method', async (t) => {
  await badFrame(t, (c) => c.sendRaw(JSON.stringify({ type: 'req', id: 'x2', method: 'constructor', params: {} })), {
    reason: 'unknown_method',
  });
});

t.test('a param of the wrong type is INVALID_REQUEST naming the field', async (t) => {
  const { res } = await badFrame(t, (c) => c.sendRaw(JSON.stringify({ type: 'req', id: 'x3', method: 'chat.send', params: { message: 42 } })), {
    reason: 'field_type',
  });
  t.equal(errorOf(res).field, 'message');
});

t.test('a missing required param is INVALID_REQUEST field_required', async (t) => {
  const { res } = await badFrame(t, (c) => c.sendRaw(JSON.stringify({ type: 'req', id: 'x4', method: 'chat.history', params: {} })), {
    reason: 'field_required',
  });
  t.equal(errorOf(res).field, 'sessionKey');
});

t.test('a too long string param is INVALID_REQUEST field_too_long', async (t) => {
  await badFrame(t, (c) => c.sendRaw(JSON.stringify({ type: 'req', id: 'x5', method: 'chat.send', params: { message: 'hi', agent: 'a'.repeat(500) } })), {
    reason: 'field_too_long',
  });
});

t.test('params that are not an object are INVALID_REQUEST invalid_params', async (t) => {
  await badFrame(t, (c) => c.sendRaw(JSON.stringify({ type: 'req', id: 'x6', method: 'agents.list', params: 'all' })), {
    reason: 'invalid_params',
  });
});

t.test('a huge id is refused with invalid_id and answered with id null', async (t) => {
  const { res } = await badFrame(t, (c) => c.sendRaw(JSON.stringify({ type: 'req', id: 'i'.repeat(100_000), method: 'agents.list' })), {
    reason: 'invalid_id',
  });
  t.equal(res.id, null);
});

t.test('a binary frame on the JSON protocol is INVALID_REQUEST binary_on_json', async (t) => {
  await badFrame(t, (c) => c.sendRaw(Buffer.from('{"type":"req"}'), true), { reason: 'binary_on_json' });
});

t.test('a text frame on troupe.msgpack is INVALID_REQUEST text_on_msgpack', async (t) => {
  await badFrame(t, (c) => c.sendRaw('{"type":"req"}'), { reason: 'text_on_msgpack' }, { protocol: 'troupe.msgpack' });
});

t.test('truncated msgpack is INVALID_REQUEST malformed_msgpack', async (t) => {
  const whole = pack({ type: 'req', id: 'm', method: 'agents.list', params: {} });
  await badFrame(t, (c) => c.sendRaw(whole.subarray(0, whole.length - 3), true), { reason: 'malformed_msgpack' }, { protocol: 'troupe.msgpack' });
});

t.test('msgpack claiming 4 billion elements is rejected before decoding', async (t) => {
  await badFrame(t, (c) => c.sendRaw(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]), true), { reason: 'malformed_msgpack' }, {
    protocol: 'troupe.msgpack',
  });
});

t.test('deeply nested JSON is rejected with too_deep without recursing', async (t) => {
  const depth = 200_000;
  await badFrame(t, (c) => c.sendRaw('['.repeat(depth) + ']'.repeat(depth)), { reason: 'too_deep' });
});

t.test('deeply nested msgpack is rejected with too_deep', async (t) => {
  const depth = 100_000;
  const bytes = Buffer.alloc(depth + 1, 0x91);
  bytes[depth] = 0xc0;
  await badFrame(t, (c) => c.sendRaw(bytes, true), { reason: 'too_deep' }, { protocol: 'troupe.msgpack' });
});

t.test('invalid UTF-8 in a text frame closes that connection only', async (t) => {
  const s = await start(t);
  const bystander = await Client.connected(s.wsUrl, 'tok-bob');
  const bad = await Client.connected(s.wsUrl);
  bad.sendRaw(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), false);
  const closed = await bad.closed;
  // uWS fails the connection itself, as RFC 6455 §8.1 requires, without a close frame.
  t.equal(closed.code, 1006);
  t.equal((await bystander.request('agents.list')).ok, true, 'another connection is still served');
  t.match(await s.registry.metrics(), /troupe_errors_total\{transport="ws",code="INVALID_REQUEST"\} 1/);
  bystander.close();
});
