import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import { loadConfig, type GatewayConfig } from '../../gateway/config.js';
import { startGateway, type RunningGateway } from '../../gateway/gateway.js';
import { signToken } from '../../security/jwt.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';

async function gateway(t: Test, patch: Partial<GatewayConfig> = {}): Promise<RunningGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'troupe-gw-'));
  const base = loadConfig({ TROUPE_DATA_DIR: dataDir, TROUPE_PORT: '0', TROUPE_WORKERS: '2', TROUPE_JWT_SECRET: SECRET, TROUPE_STORE: 'none' });
  const config: GatewayConfig = {
    ...base,
    agents: [
      { id: 'fast', model: 'sim', provider: { kind: 'simulated', tokens: 16 } },
      { id: 'slow', model: 'sim', provider: { kind: 'simulated', tokens: 200, latencyMs: 20 } },
    ],
    ...patch,
  };
  const gw = await startGateway(config);
  t.teardown(() => gw.shutdown());
  return gw;
}

const token = (tenant = 'acme', user = 'alice') => signToken({ secret: SECRET, tenant, user, scopes: ['chat'], ttlSec: 600 });

interface Frame { type: string; id?: string; ok?: boolean; event?: string; payload?: Record<string, unknown>; error?: { code: string } }

/** A real WebSocket client that records frames and answers requests by id. */
async function client(gw: RunningGateway, tok: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/ws?token=${tok}`);
  const frames: Frame[] = [];
  const waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  ws.on('message', (data) => {
    const f = JSON.parse(String(data)) as Frame;
    frames.push(f);
    for (const w of [...waiters]) {
      if (w.pred(f)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(f);
      }
    }
  });
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  let id = 0;
  const next = (pred: (f: Frame) => boolean): Promise<Frame> => {
    const found = frames.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => waiters.push({ pred, resolve }));
  };
  const call = (method: string, params: Record<string, unknown> = {}): Promise<Frame> => {
    const rid = String(++id);
    ws.send(JSON.stringify({ type: 'req', id: rid, method, params }));
    return next((f) => f.type === 'res' && f.id === rid);
  };
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  return { ws, frames, call, next, closed };
}

t.test('chat over WebSocket streams a reply from a session actor on a worker', async (t) => {
  const gw = await gateway(t);
  const c = await client(gw, await token());
  t.match(await c.call('connect'), { ok: true, payload: { tenant: 'acme', user: 'alice' } });
  const sent = await c.call('chat.send', { message: 'hello', agent: 'fast', sessionKey: 's1' });
  t.equal(sent.ok, true);
  const runId = sent.payload?.runId as string;
  const final = await c.next((f) => f.event === 'chat.final' && f.payload?.runId === runId);
  const deltas = c.frames.filter((f) => f.event === 'chat.delta').map((f) => f.payload?.delta).join('');
  t.equal(deltas, final.payload?.text, 'deltas add up to the final text');
  t.equal((final.payload?.text as string).split(' ').length, 16);
  t.match(final.payload, { usage: { outputTokens: 16 }, stopReason: 'stop' });
  const seqs = c.frames.filter((f) => f.type === 'event').map((f) => (f as { seq?: number }).seq);
  t.same(seqs, seqs.map((_, i) => i + 1), 'events carry a per-connection seq');
  c.ws.close();
});

t.test('ping is answered by the session actor, and a reconnect resumes the same session', async (t) => {
  const gw = await gateway(t);
  const tok = await token();
  const a = await client(gw, tok);
  await a.call('connect');
  t.match(await a.call('ping', { sessionKey: 'resume-me' }), { ok: true, payload: { pong: true } });
  const sent = await a.call('chat.send', { message: 'remember this', agent: 'fast', sessionKey: 'resume-me' });
  await a.next((f) => f.event === 'chat.final' && f.payload?.runId === sent.payload?.runId);
  a.ws.close();
  await a.closed;
  const b = await client(gw, tok);
  await b.call('connect');
  const hist = await b.call('chat.history', { sessionKey: 'resume-me' });
  const messages = hist.payload?.messages as { role: string; content: string }[];
  t.equal(messages.length, 2);
  t.match(messages[0], { role: 'user', content: 'remember this' });
  t.equal(messages[1].role, 'assistant');
  const listed = await b.call('sessions.list');
  t.ok((listed.payload?.sessions as { sessionKey: string }[]).some((s) => s.sessionKey === 'resume-me'));
  t.match(await b.call('agents.list'), { payload: { agents: [{ id: 'fast' }, { id: 'slow' }] } });
  b.ws.close();
});

t.test('tenants cannot see each other\'s sessions under the same key', async (t) => {
  const gw = await gateway(t);
  const a = await client(gw, await token('acme', 'alice'));
  await a.call('connect');
  const sent = await a.call('chat.send', { message: 'acme secret', agent: 'fast', sessionKey: 'shared' });
  await a.next((f) => f.event === 'chat.final' && f.payload?.runId === sent.payload?.runId);
  const b = await client(gw, await token('globex', 'alice'));
  await b.call('connect');
  const hist = await b.call('chat.history', { sessionKey: 'shared' });
  t.same(hist.payload?.messages, [], 'another tenant gets its own, empty session');
  a.ws.close();
  b.ws.close();
});

t.test('chat.abort stops a run and the client is told', async (t) => {
  const gw = await gateway(t);
  const c = await client(gw, await token());
  await c.call('connect');
  const sent = await c.call('chat.send', { message: 'long story', agent: 'slow' });
  const runId = sent.payload?.runId as string;
  await c.next((f) => f.event === 'chat.delta' && f.payload?.runId === runId);
  t.match(await c.call('chat.abort', { runId }), { ok: true, payload: { aborted: true } });
  const final = await c.next((f) => f.event === 'chat.final' && f.payload?.runId === runId);
  t.equal(final.payload?.stopReason, 'aborted');
  const deltas = c.frames.filter((f) => f.event === 'chat.delta' && f.payload?.runId === runId).map((f) => f.payload?.delta).join('');
  t.ok(deltas.length > 0, 'some text was streamed before the abort');
  t.equal(final.payload?.text, deltas, 'chat.final carries the text streamed so far');
  t.ok((final.payload?.text as string).split(' ').length < 200, 'the run ended early');
  c.ws.close();
});

t.test('the official openai SDK works unchanged, streaming and not', async (t) => {
  const gw = await gateway(t);
  const openai = new OpenAI({ apiKey: await token(), baseURL: `${gw.url}/v1`, maxRetries: 0 });
  const models = await openai.models.list();
  t.same(models.data.map((m) => m.id).sort(), ['fast', 'slow']);
  const done = await openai.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] });
  t.equal(done.choices[0].message.content?.split(' ').length, 16);
  t.equal(done.usage?.completion_tokens, 16);
  const stream = await openai.chat.completions.create({
    model: 'fast', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  let usage: unknown;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  t.equal(text.split(' ').length, 16);
  t.match(usage, { completion_tokens: 16 });
  // Without a session header the API is stateless: concurrent requests run side by side and leave no session behind.
  const many = await Promise.all([1, 2, 3, 4].map(() => openai.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] })));
  t.equal(many.filter((c) => c.choices[0].message.content?.split(' ').length === 16).length, 4);
  const listed = await gw.backend.sessionsList({ tenant: 'acme', user: 'alice', scopes: [] });
  t.same(listed.sessions, [], 'no session was kept for stateless requests');
});

t.test('an idle session passivates and comes back on demand', async (t) => {
  const gw = await gateway(t, { sessionIdleMs: 1_000 });
  const c = await client(gw, await token());
  await c.call('connect');
  await c.call('ping', { sessionKey: 'sleepy' });
  const listed = async () => ((await c.call('sessions.list')).payload?.sessions as { sessionKey: string }[]).map((s) => s.sessionKey);
  t.ok((await listed()).includes('sleepy'));
  await new Promise((r) => setTimeout(r, 2_500));
  t.notOk((await listed()).includes('sleepy'), 'the idle session stopped and left the directory');
  t.match(await c.call('ping', { sessionKey: 'sleepy' }), { ok: true, payload: { pong: true } }, 'it is spawned again on demand');
  c.ws.close();
});

t.test('shutdown tells clients, drains a run in flight, then closes', async (t) => {
  const gw = await gateway(t, { shutdownDeadlineMs: 15_000, agents: [{ id: 'slowish', model: 'sim', provider: { kind: 'simulated', tokens: 20, latencyMs: 20 } }] });
  const c = await client(gw, await token());
  await c.call('connect');
  const sent = await c.call('chat.send', { message: 'finish me' });
  const runId = sent.payload?.runId as string;
  const stopping = gw.shutdown();
  const shutdownEvent = await c.next((f) => f.event === 'shutdown');
  t.ok(shutdownEvent, 'the client got a shutdown event');
  const final = await c.next((f) => f.event === 'chat.final' && f.payload?.runId === runId);
  t.equal((final.payload?.text as string).split(' ').length, 20, 'the run in flight finished');
  await stopping;
  t.ok(await c.closed);
});

t.test('a run on a worker that dies ends with a retryable UNAVAILABLE; the gateway keeps serving', async (t) => {
  const gw = await gateway(t);
  const c = await client(gw, await token());
  await c.call('connect');
  const sent = await c.call('chat.send', { message: 'doomed', agent: 'slow', sessionKey: 'doomed' });
  const runId = sent.payload?.runId as string;
  await c.next((f) => f.event === 'chat.delta' && f.payload?.runId === runId);
  const sessions = (await c.call('sessions.list')).payload?.sessions as { sessionKey: string; worker: number }[];
  const host = sessions.find((s) => s.sessionKey === 'doomed')?.worker as number;
  // Kill that worker from outside, as an operator's fault injection would.
  const ready = new Promise<void>((r) => gw.system.workers?.onEvent((e) => { if (e.type === 'worker-ready' && e.host === host) r(); }));
  (gw.system.workers as unknown as { slots: { host: number; worker: { terminate(): Promise<number> } }[] }).slots
    .find((s) => s.host === host)?.worker.terminate();
  const err = await c.next((f) => f.event === 'chat.error' && f.payload?.runId === runId);
  t.match(err.payload?.error, { code: 'UNAVAILABLE', retryable: true });
  await ready;
  const again = await c.call('chat.send', { message: 'retry', agent: 'fast', sessionKey: 'doomed' });
  const final = await c.next((f) => f.event === 'chat.final' && f.payload?.runId === again.payload?.runId);
  t.equal((final.payload?.text as string).split(' ').length, 16);
  c.ws.close();
});

t.test('rate limits apply per tenant, per user and per IP, with retryAfterMs', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'troupe-gw-'));
  const tight = await startGateway({
    ...loadConfig({
      TROUPE_DATA_DIR: dataDir, TROUPE_PORT: '0', TROUPE_WORKERS: '1', TROUPE_JWT_SECRET: SECRET, TROUPE_STORE: 'none',
      TROUPE_CHAT_TENANT_RATE: '0.001', TROUPE_CHAT_TENANT_BURST: '3',
    }),
    agents: [{ id: 'fast', model: 'sim', provider: { kind: 'simulated', tokens: 4 } }],
  });
  t.teardown(() => tight.shutdown());
  const alice = await client(tight, await token('acme', 'alice'));
  const bob = await client(tight, await token('acme', 'bob'));
  const other = await client(tight, await token('globex', 'carol'));
  for (const c of [alice, bob, other]) await c.call('connect');
  const results = [];
  for (const c of [alice, bob, alice, bob]) results.push(await c.call('chat.send', { message: 'x' }));
  t.same(results.map((r) => r.ok), [true, true, true, false], 'the tenant budget of 3 is shared by its users');
  t.match(results[3].error, { code: 'RATE_LIMITED', retryAfterMs: Number });
  t.ok(((results[3].error as unknown as { retryAfterMs: number }).retryAfterMs) > 0);
  t.equal((await other.call('chat.send', { message: 'x' })).ok, true, 'another tenant is not affected');
  for (const c of [alice, bob, other]) c.ws.close();
});

t.test('an abort never spawns a session: one that stopped meanwhile has nothing to abort', async (t) => {
  const gw = await gateway(t);
  const caller = { tenant: 'acme', user: 'alice', scopes: [] };
  // A session passivates when idle; an abort that comes at that moment can reach
  // the directory entry of a session that is already gone. Stage exactly that:
  // the entry points at a stopped actor.
  const gone = gw.system.spawn<unknown>(() => ({ receive: () => undefined }));
  await gw.system.stop(gone);
  const sessions = (gw.backend as unknown as { sessions: Map<string, unknown> }).sessions;
  sessions.set('acme\u0000gone', gone);
  t.same(await gw.backend.chatAbort(caller, { sessionKey: 'gone' }), { aborted: false });
  // A stateless run's key (`~…`) names no session: its abort goes to the runner, or nowhere.
  t.same(await gw.backend.chatAbort(caller, { sessionKey: '~gone' }), { aborted: false });
  t.equal(sessions.size, 0, 'the stale entry is dropped and no session was spawned for the abort');
  t.equal((await gw.backend.health()).sessions, 0);
});
