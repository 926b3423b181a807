// Stateless requests (the OpenAI-compatible API without a session key) run on
// each worker's stateless runner (actors/runner.ts), not on a session actor
// and an agent spawned per request: the same answers, aborts and errors, and
// no session left behind. Real gateway, real HTTP clients, the fake upstream.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import t, { type Test } from 'tap';
import type { ChatEventName } from '../../actors/chat_contract.js';
import { loadConfig } from '../../gateway/config.js';
import { startGateway, type RunningGateway as Gateway } from '../../gateway/gateway.js';
import { signToken } from '../../security/jwt.js';
import { OpenAIUpstream } from '../fakes/openai_upstream.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const caller = { tenant: 'acme', user: 'u', scopes: ['chat'] };

async function setup(t: Test, workers = '2'): Promise<{ fake: OpenAIUpstream; gw: Gateway; client: OpenAI; token: string }> {
  const fake = new OpenAIUpstream();
  await fake.start();
  t.teardown(() => fake.close());
  const gw = await startGateway({
    ...loadConfig({
      TROUPE_DATA_DIR: mkdtempSync(join(tmpdir(), 'troupe-runner-')), TROUPE_PORT: '0', TROUPE_WORKERS: workers,
      TROUPE_JWT_SECRET: SECRET, TROUPE_STORE: 'none',
    }),
    agents: [{ id: 'helper', model: 'fake-model', provider: { kind: 'openai', apiKey: 'sk-test', baseURL: `${fake.url}/v1` } }],
  });
  t.teardown(() => gw.shutdown());
  const token = await signToken({ secret: SECRET, tenant: 'acme', user: 'u', ttlSec: 600 });
  return { fake, gw, client: new OpenAI({ apiKey: token, baseURL: `${gw.url}/v1`, maxRetries: 0 }), token };
}

/** Waits (bounded) until `done` holds. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!done()) throw new Error(`${what} did not happen`);
}

t.test('stateless completions, JSON and streamed, side by side, leave no session behind', async (t) => {
  const { fake, gw, client } = await setup(t);
  fake.script({ text: 'one' }, { text: 'two' }, { text: 'three' }, { text: 'four' });
  const ask = (content: string) => client.chat.completions.create({ model: 'helper', messages: [{ role: 'user', content }] });
  const streamed = async (content: string): Promise<string> => {
    let text = '';
    for await (const chunk of await client.chat.completions.create({ model: 'helper', stream: true, messages: [{ role: 'user', content }] })) {
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    return text;
  };
  const [a, b, c, d] = await Promise.all([ask('a'), ask('b'), streamed('c'), streamed('d')]);
  const texts = [a.choices[0]?.message.content, b.choices[0]?.message.content, c, d];
  t.same([...texts].sort(), ['four', 'one', 'three', 'two'], 'every request got one whole answer');
  t.equal(a.usage?.prompt_tokens, 7, 'usage comes back as before');
  const health = await gw.backend.health();
  t.equal(health.sessions, 0, 'no session actor was spawned');
  t.equal(gw.backend.activeRuns, 0);
  t.same((await gw.backend.sessionsList(caller)).sessions, []);
});

t.test('a client that disconnects mid-stream aborts its stateless run and the upstream request', async (t) => {
  const { fake, gw, token } = await setup(t);
  fake.script({ text: 'a b c d e f g h i j k l m n o p', delayMsPerChunk: 100 });
  const controller = new AbortController();
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST', signal: controller.signal,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'helper', stream: true, messages: [{ role: 'user', content: 'go' }] }),
  });
  t.equal(res.status, 200);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let seen = '';
  while (!seen.includes('"content":"a ')) seen += new TextDecoder().decode((await reader.read()).value);
  controller.abort();
  await fake.waitForClientAbort();
  t.ok(fake.clientAborts >= 1, 'the upstream saw its request closed');
  await until(() => gw.backend.activeRuns === 0, 'the run ending');
  t.pass('the run ended');
});

t.test('chat.abort by run id reaches a stateless run, which ends with what it had streamed', async (t) => {
  const { fake, gw } = await setup(t);
  fake.script({ text: 'a b c d e f g h i j k l m n o p', delayMsPerChunk: 100 });
  const events: ChatEventName[] = [];
  let final: Record<string, unknown> | undefined;
  const { runId, sessionKey } = await gw.backend.chatSend(caller, { message: 'go', stateless: true }, (event, payload) => {
    events.push(event);
    if (event === 'chat.final') final = payload as unknown as Record<string, unknown>;
  });
  t.match(sessionKey, /^~/, 'a key of its own, never a session\'s');
  await until(() => events.includes('chat.delta'), 'the first delta');
  t.same(await gw.backend.chatAbort(caller, { runId }), { aborted: true });
  await until(() => final !== undefined, 'the final event');
  t.match(final, { stopReason: 'aborted', text: /^a / });
  t.same(await gw.backend.chatAbort(caller, { runId }), { aborted: false }, 'a finished run has nothing to abort');
  t.same(await gw.backend.chatAbort({ ...caller, tenant: 'globex' }, { runId }), { aborted: false });
});

t.test('an upstream error ends a stateless run with that error, and the runner takes the next request', async (t) => {
  const { fake, client } = await setup(t, '1');
  fake.script({ status: 400, errorMessage: 'unknown field "foo"' }, { text: 'fine again' });
  const failed = await client.chat.completions.create({ model: 'helper', messages: [{ role: 'user', content: 'x' }] }).then(() => undefined, (err: unknown) => err);
  t.ok(failed instanceof OpenAI.APIError, 'the client got an API error');
  t.match((failed as InstanceType<typeof OpenAI.APIError>).message, /foo/);
  const ok = await client.chat.completions.create({ model: 'helper', messages: [{ role: 'user', content: 'y' }] });
  t.equal(ok.choices[0]?.message.content, 'fine again');
});

t.test('a stateless run on a worker that dies ends with a retryable UNAVAILABLE, and the replacement runs the next', async (t) => {
  const { fake, gw } = await setup(t, '1');
  fake.script({ text: 'a b c d e f g h i j k l m n o p', delayMsPerChunk: 200 }, { text: 'after' });
  let error: { code?: string; retryable?: boolean } | undefined;
  const events: ChatEventName[] = [];
  await gw.backend.chatSend(caller, { message: 'go', stateless: true }, (event, payload) => {
    events.push(event);
    if (event === 'chat.error') error = (payload as unknown as { error: typeof error }).error;
  });
  await until(() => events.includes('chat.delta'), 'the first delta');
  const pool = gw.system.workers;
  if (pool === undefined || pool === null) throw new Error('no worker pool');
  const ready = new Promise<void>((resolve) => {
    const off = pool.onEvent((e) => {
      if (e.type === 'worker-ready') {
        off();
        resolve();
      }
    });
  });
  t.ok(pool.killWorker(pool.hosts[0] as number));
  await until(() => error !== undefined, 'the error event');
  t.match(error, { code: 'UNAVAILABLE', retryable: true });
  await ready;
  let text = '';
  await new Promise<void>((resolve, reject) => {
    void gw.backend.chatSend(caller, { message: 'again', stateless: true }, (event, payload) => {
      if (event === 'chat.final') {
        text = String((payload as unknown as { text: string }).text);
        resolve();
      } else if (event === 'chat.error') reject(new Error(JSON.stringify(payload)));
    }).catch(reject);
  });
  t.equal(text, 'after');
});
