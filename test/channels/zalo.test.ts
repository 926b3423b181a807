// Zalo OA end to end: the gateway in-process with the simulated provider, our
// thin OpenAPI client, and a fake Zalo that signs OA events as Zalo does.
import t from 'tap';
import { ZALO_THROTTLED, ZaloFake } from '../fakes/zalo_platform.js';
import { startChannelGateway } from './harness.js';

const creds = { accessToken: 'zalo-oa-access-token', oaSecretKey: 'zalo-oa-secret', appId: '4300000001' };
const zl = new ZaloFake(creds);
await zl.start();
const base = { platform: 'zalo', tenant: 'acme', ...creds, apiBase: zl.apiBase, rate: { perChatPerSecond: 100, perBotPerSecond: 1000 }, access: { mode: 'open' } };
const h = await startChannelGateway([
  { id: 'zl', ...base },
  { id: 'zllong', ...base, agent: 'long' },
  { id: 'zlbad', ...base, accessToken: 'expired' },
]);
t.teardown(async () => {
  await h.close();
  await zl.stop();
});

const words = (s: string) => s.trim().split(/\s+/).filter(Boolean).length;
let next = 1;
const user = () => `zuser${next++}`;
const deliver = (id: string, body: string, sig = zl.sign(body)) => h.post(id, body, { 'x-zevent-signature': sig });

t.test('a user message is acknowledged at once and answered whole in plain text', async (t) => {
  const u = user();
  t.equal((await deliver('zl', zl.event(u, 'xin chào').body)).status, 200);
  await zl.waitFor(() => zl.inChat(u).length === 1);
  t.equal(words(zl.inChat(u)[0]?.text ?? ''), 12);
  const sessions = (await h.gw.backend.sessionsList({ tenant: 'acme', user: 'x', scopes: [] })).sessions.map((s) => s.sessionKey);
  t.ok(sessions.includes(`zl:${u}`));
});

t.test('a long reply is split within 2000 characters, losing no word', async (t) => {
  const u = user();
  await deliver('zllong', zl.event(u, 'write a lot').body);
  await zl.waitFor(() => zl.inChat(u).reduce((n, m) => n + words(m.text), 0) === 1500);
  t.ok(zl.inChat(u).length >= 4, `${zl.inChat(u).length} messages`);
  for (const m of zl.inChat(u)) t.ok(m.text.length <= 2000, `piece of ${m.text.length} characters`);
});

t.test('a sticker or image gets a "not supported yet" answer', async (t) => {
  const u = user();
  await deliver('zl', zl.event(u, '', { event: 'user_send_image' }).body);
  await zl.waitFor(() => zl.inChat(u).length === 1);
  t.match(zl.inChat(u)[0]?.text, /not supported yet/);
});

t.test('bad webhooks are refused with their status and processed not at all', async (t) => {
  const u = user();
  const { body } = zl.event(u, 'forged');
  const before = zl.posted.length;
  t.equal((await h.post('zl', body)).status, 401, 'no signature');
  t.equal((await deliver('zl', body, 'mac=' + 'b'.repeat(64))).status, 401, 'forged signature');
  t.equal((await deliver('zl', body.replace('forged', 'changed'), zl.sign(body))).status, 401, 'body changed after signing');
  t.equal((await deliver('zl', '{"event_name": ', 'mac=00')).status, 400, 'malformed JSON');
  t.equal((await deliver('zl', JSON.stringify({ timestamp: '1', pad: 'a'.repeat(1024 * 1024 + 10) }))).status, 413, 'oversized body');
  t.equal((await deliver('nope', body)).status, 404, 'unknown channel id');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(zl.posted.length, before, 'nothing was answered');
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'zl', outcome: 'bad_signature' }) >= 3);
});

t.test('a redelivered event is processed once', async (t) => {
  const u = user();
  const { body } = zl.event(u, 'once only');
  t.equal((await deliver('zl', body)).status, 200);
  t.equal((await deliver('zl', body)).status, 200);
  await zl.waitFor(() => zl.inChat(u).length === 1);
  await deliver('zl', zl.event(u, 'next').body);
  await zl.waitFor(() => zl.inChat(u).length === 2);
  t.equal(zl.inChat(u).length, 2);
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'zl', outcome: 'duplicate' }) >= 1);
});

t.test('a rate-limited send (error -32) is retried, then delivered', async (t) => {
  const u = user();
  zl.fail(ZALO_THROTTLED);
  await deliver('zl', zl.event(u, 'busy?').body);
  await zl.waitFor(() => zl.inChat(u).length === 1);
  t.equal(zl.pendingFaults, 0);
  t.ok(await h.metric('troupe_channel_retries_total', { channel: 'zl', reason: 'rate_limited' }) >= 1);
});

t.test('while Zalo is down replies are retried, and delivered when it is back', async (t) => {
  const u = user();
  zl.fail({ status: 502, body: 'Bad Gateway' }, 2);
  await deliver('zl', zl.event(u, 'hello?').body);
  await zl.waitFor(() => zl.inChat(u).length === 1);
  t.equal(words(zl.inChat(u)[0]?.text ?? ''), 12);
});

t.test('an expired access token makes that channel unhealthy; the others keep working', async (t) => {
  const health = await h.health();
  t.equal(health.channels.zlbad?.status, 'unhealthy');
  t.equal(health.channels.zl?.status, 'up');
});
