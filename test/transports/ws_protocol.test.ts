import t from 'tap';
import type { RunEnd } from '../../actors/chat_contract.js';
import type { UsageLedger } from '../../transports/usage.js';
import { Client, errorOf, start } from './harness.js';

t.test('connect with params.token answers protocol, identity, server and policy', async (t) => {
  const s = await start(t);
  const c = await Client.open(s.wsUrl);
  const res = await c.request('connect', { token: 'tok-alice', protocol: 1 });
  t.equal(res.ok, true);
  t.match(res.payload, {
    protocol: 1, user: 'alice', tenant: 'acme',
    server: { name: 'troupe', version: String, engine: 'native' },
    policy: { maxPayloadBytes: 512 * 1024, heartbeatMs: Number },
  });
  c.close();
});

t.test('requests before connect are UNAUTHORIZED and the connection stays usable', async (t) => {
  const s = await start(t);
  const c = await Client.open(s.wsUrl);
  const res = await c.request('sessions.list');
  t.equal(res.ok, false);
  t.equal(errorOf(res).code, 'UNAUTHORIZED');
  t.equal(errorOf(res).reason, 'not_connected');
  t.equal((await c.request('connect', { token: 'tok-alice' })).ok, true);
  t.equal((await c.request('sessions.list')).ok, true);
  c.close();
});

t.test('connect without any credential is UNAUTHORIZED naming the token field', async (t) => {
  const s = await start(t);
  const c = await Client.open(s.wsUrl);
  const res = await c.request('connect', {});
  t.equal(errorOf(res).code, 'UNAUTHORIZED');
  t.equal(errorOf(res).field, 'token');
  c.close();
});

t.test('a bad token in connect is UNAUTHORIZED', async (t) => {
  const s = await start(t);
  const c = await Client.open(s.wsUrl);
  const res = await c.request('connect', { token: 'nope' });
  t.equal(errorOf(res).code, 'UNAUTHORIZED');
  t.equal(errorOf(res).retryable, false);
  c.close();
});

t.test('an authenticator failing with a non-catalogue error answers UNAUTHORIZED, not INTERNAL', async (t) => {
  const s = await start(t);
  const c = await Client.open(s.wsUrl);
  const res = await c.request('connect', { token: 'tok-crash' });
  t.match(errorOf(res), { code: 'UNAUTHORIZED', reason: 'bad_token' });
  t.notMatch(JSON.stringify(res), /JWKS/);
  c.close();
});

t.test('an expired principal is refused with reason token_expired', async (t) => {
  const s = await start(t);
  const c = await Client.open(s.wsUrl);
  const res = await c.request('connect', { token: 'tok-expired' });
  t.equal(errorOf(res).reason, 'token_expired');
  c.close();
});

t.test('a Bearer token on the upgrade authenticates without connect', async (t) => {
  const s = await start(t);
  const c = await Client.open(s.wsUrl, { headers: { authorization: 'Bearer tok-bob' } });
  const res = await c.request('sessions.list');
  t.same(res.payload, { sessions: [{ key: 'bob:main' }] });
  c.close();
});

t.test('a ?token= query authenticates without connect', async (t) => {
  const s = await start(t);
  const c = await Client.open(`${s.wsUrl}?token=tok-bob`);
  const res = await c.request('connect', {});
  t.equal(res.ok, true);
  t.match(res.payload, { user: 'bob' });
  c.close();
});

t.test('a bad token on the upgrade is refused with HTTP 401', async (t) => {
  const s = await start(t);
  await t.rejects(Client.open(`${s.wsUrl}?token=bad`), /401/);
});

t.test('a second connect on the same connection is INVALID_REQUEST already_connected', async (t) => {
  const s = await start(t);
  const c = await Client.connected(s.wsUrl);
  const res = await c.request('connect', { token: 'tok-bob' });
  t.equal(errorOf(res).reason, 'already_connected');
  c.close();
});

t.test('an unsupported protocol version is refused naming the field', async (t) => {
  const s = await start(t);
  const c = await Client.open(s.wsUrl);
  const res = await c.request('connect', { token: 'tok-alice', protocol: 2 });
  t.equal(errorOf(res).reason, 'unsupported_protocol');
  t.equal(errorOf(res).field, 'protocol');
  c.close();
});

t.test('chat.send answers runId first, then deltas and final with seq 1, 2, 3, …', async (t) => {
  const s = await start(t);
  s.backend.deltaCount = 4;
  const c = await Client.connected(s.wsUrl);
  const res = await c.request('chat.send', { message: 'hello', agent: 'echo' });
  t.equal(res.ok, true);
  const { runId } = res.payload as { runId: string };
  t.match(runId, /^run-/);
  const final = await c.waitFor((f) => f.type === 'event' && f.event === 'chat.final', 'chat.final');
  const events = c.frames.filter((f) => f.type === 'event');
  t.same(events.map((e) => e.seq), [1, 2, 3, 4, 5]);
  t.same(events.map((e) => e.event), ['chat.delta', 'chat.delta', 'chat.delta', 'chat.delta', 'chat.final']);
  t.ok(c.frames.indexOf(res) < c.frames.indexOf(events[0]), 'the res frame precedes the first event');
  t.match(final.payload, { runId, text: 'tok tok tok tok ', usage: { outputTokens: 4 } });
  t.same(s.backend.sent[0].params, { message: 'hello', agent: 'echo' }, 'the backend gets the params as sent');
  t.equal((s.backend.sent[0].principal as { sourceIp?: string }).sourceIp, '127.0.0.1', 'and the client address with the caller');
  c.close();
});

t.test('events a backend emits before chatSend resolves still arrive after the res frame', async (t) => {
  const s = await start(t);
  s.backend.emitBeforeAccept = true;
  const c = await Client.connected(s.wsUrl);
  const res = await c.request('chat.send', { message: 'race' });
  await c.waitFor((f) => f.event === 'chat.final', 'final');
  const first = c.frames.find((f) => f.type === 'event');
  t.ok(c.frames.indexOf(res) < c.frames.indexOf(first as never), 'res first');
  t.match(first, { event: 'chat.delta', seq: 1, payload: { delta: 'early ' } });
  c.close();
});

t.test('chat.abort stops a slow run, which ends in chat.final with stop reason aborted', async (t) => {
  const s = await start(t);
  s.backend.deltaCount = 1000;
  s.backend.delayMs = 20;
  const c = await Client.connected(s.wsUrl);
  const { runId } = (await c.request('chat.send', { message: 'long' })).payload as { runId: string };
  const abort = await c.request('chat.abort', { runId });
  t.same(abort.payload, { aborted: true });
  const final = await c.waitFor((f) => f.type === 'event' && f.event === 'chat.final', 'chat.final');
  t.match(final.payload, { runId, stopReason: 'aborted' });
  const deltas = c.frames.filter((f) => f.event === 'chat.delta').map((f) => (f.payload as { delta: string }).delta).join('');
  t.equal((final.payload as { text: string }).text, deltas, 'the final text is what was streamed before the abort');
  t.notOk(c.frames.some((f) => f.event === 'chat.error'), 'no chat.error');
  c.close();
});

t.test('chat.abort without runId or sessionKey is INVALID_REQUEST', async (t) => {
  const s = await start(t);
  const c = await Client.connected(s.wsUrl);
  t.equal(errorOf(await c.request('chat.abort', {})).code, 'INVALID_REQUEST');
  c.close();
});

t.test('ping, chat.history, sessions.list, agents.list and health reach the backend', async (t) => {
  const s = await start(t);
  const c = await Client.connected(s.wsUrl);
  t.match((await c.request('ping', { sessionKey: 'alice:main' })).payload, { pong: true, at: Number });
  t.match((await c.request('chat.history', { sessionKey: 's1', limit: 5 })).payload, { messages: [{ content: 'history of s1', limit: 5 }] });
  t.match((await c.request('agents.list')).payload, { agents: [{ id: 'echo' }, { id: 'helper' }] });
  t.match((await c.request('health')).payload, { actors: 'ok', engine: 'native', uptimeMs: Number });
  c.close();
});

t.test('backend errors with a catalogue code reach the client unchanged', async (t) => {
  const s = await start(t);
  const c = await Client.connected(s.wsUrl);
  const res = await c.request('chat.send', { message: 'hi', agent: 'missing' });
  t.match(errorOf(res), { code: 'NOT_FOUND', reason: 'unknown_agent', retryable: false });
  c.close();
});

t.test('unknown backend errors become INTERNAL without leaking their message', async (t) => {
  const s = await start(t);
  const c = await Client.connected(s.wsUrl);
  const res = await c.request('chat.send', { message: 'hi', agent: 'crash' });
  t.equal(errorOf(res).code, 'INTERNAL');
  t.notMatch(JSON.stringify(res), /passwd/);
  c.close();
});

t.test('the troupe.msgpack subprotocol carries the same frames as binary msgpack', async (t) => {
  const s = await start(t);
  const c = await Client.open(s.wsUrl, { protocol: 'troupe.msgpack' });
  t.equal(c.ws.protocol, 'troupe.msgpack');
  const res = await c.request('connect', { token: 'tok-alice' });
  t.match(res.payload, { user: 'alice', protocol: 1 });
  await c.request('chat.send', { message: 'hi' });
  const final = await c.waitFor((f) => f.event === 'chat.final', 'final over msgpack');
  t.equal(final.type, 'event');
  t.equal(final.seq, 4);
  c.close();
});

t.test('numeric request ids are echoed as numbers', async (t) => {
  const s = await start(t);
  const c = await Client.connected(s.wsUrl);
  c.send({ type: 'req', id: 42, method: 'agents.list', params: {} });
  const res = await c.waitFor((f) => f.type === 'res' && f.id === 42, 'res 42');
  t.equal(res.ok, true);
  c.close();
});

t.test('a run\'s end reaches the usage ledger with its session key, address and how it ended, even when it ends before its acceptance', async (t) => {
  // The usage row is the turn's record (no audit row repeats it), so it must name the session.
  const ends: RunEnd[] = [];
  const usage: UsageLedger = { runEnded: (end) => ends.push(end), summarize: async () => [] };
  const s = await start(t, { usage });
  const c = await Client.connected(s.wsUrl);
  await c.request('chat.send', { message: 'later', sessionKey: 'k1' });
  await c.waitFor((f) => f.event === 'chat.final', 'the first final');
  s.backend.finishBeforeAccept = true;
  await c.request('chat.send', { message: 'at once' });
  await c.waitFor((f) => f.event === 'chat.final' && f.payload !== undefined && (f.payload as { runId?: string }).runId === 'run-2', 'the second final');
  t.equal(ends.length, 2, 'one end a run');
  t.match(ends[0], { runId: 'run-1', sessionKey: 'k1', endReason: 'end_turn', outcome: 'ok', caller: { user: 'alice', sourceIp: String } });
  t.match(ends[1], { runId: 'run-2', sessionKey: 'alice:main', endReason: 'end_turn', outcome: 'ok' }, 'the default key, though the run ended first');
  s.backend.finishBeforeAccept = false;
  s.backend.failAfterDeltas = 1;
  await c.request('chat.send', { message: 'fails', sessionKey: 'k2' });
  await c.waitFor((f) => f.event === 'chat.error', 'the error');
  t.match(ends[2], { sessionKey: 'k2', endReason: 'UNAVAILABLE', outcome: 'error' }, 'an error\'s code is how it ended');
  c.close();
});
