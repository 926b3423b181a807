// Feishu/Lark end to end: the gateway in-process with the simulated provider,
// @larksuiteoapi/node-sdk on our side, and a fake open platform that encrypts
// and signs event callbacks as Feishu does.
import t from 'tap';
import { FEISHU_THROTTLED, FeishuFake } from '../fakes/feishu_platform.js';
import { startChannelGateway } from './harness.js';

const creds = { appId: 'cli_feishu_test', appSecret: 'feishu-app-secret', verificationToken: 'feishu-vtoken', encryptKey: 'feishu-ekey' };
const fs = new FeishuFake(creds);
await fs.start();
const base = { platform: 'feishu', tenant: 'acme', ...creds, apiBase: fs.apiBase, rate: { perChatPerSecond: 100, perBotPerSecond: 1000 }, access: { mode: 'open' } };
const h = await startChannelGateway([
  { id: 'fs', ...base },
  { id: 'fsslow', ...base, agent: 'slow' },
  { id: 'fsbad', ...base, appSecret: 'wrong-secret' },
]);
t.teardown(async () => {
  await h.close();
  await fs.stop();
});

const words = (s: string) => s.trim().split(/\s+/).filter(Boolean).length;
let next = 1;
const chat = () => `oc_chat${next++}`;
const send = (id: string, plain: string, opts: { signature?: string; unsigned?: boolean } = {}) =>
  fs.deliver(`${h.url}/channels/${id}`, fs.wire(plain), opts);

t.test('the encrypted url_verification is answered with its challenge', async (t) => {
  const res = await send('fs', fs.challenge('challenge-123'), { unsigned: true });
  t.equal(res.status, 200);
  t.same(JSON.parse(res.text), { challenge: 'challenge-123' });
});

t.test('a direct message is answered through the SDK as a post message', async (t) => {
  const c = chat();
  t.equal((await send('fs', fs.event({ chatId: c, userId: 'ou_ada', text: 'hello there' }).plain)).status, 200);
  await fs.waitFor(() => fs.inChat(c).length === 1 && words(fs.inChat(c)[0]?.text ?? '') === 12);
  t.ok(fs.requests.some((r) => r.path === '/open-apis/auth/v3/tenant_access_token/internal'), 'the SDK fetched a tenant token');
});

t.test('in a group the bot answers an @-mention, and nothing else', async (t) => {
  const c = chat();
  await send('fs', fs.event({ chatId: c, userId: 'ou_ada', chatType: 'group', text: 'chatting' }).plain);
  await send('fs', fs.event({ chatId: c, userId: 'ou_ada', chatType: 'group', mentionBot: true, text: 'what is an actor?' }).plain);
  await fs.waitFor(() => fs.inChat(c).length === 1 && words(fs.inChat(c)[0]?.text ?? '') === 12);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(fs.inChat(c).length, 1);
});

t.test('topic threads are separate sessions and replies stay in their thread', async (t) => {
  const c = chat();
  await send('fs', fs.event({ chatId: c, userId: 'ou_ada', chatType: 'group', mentionBot: true, threadId: 'omt_a', text: 'topic a' }).plain);
  await send('fs', fs.event({ chatId: c, userId: 'ou_ada', chatType: 'group', mentionBot: true, threadId: 'omt_b', text: 'topic b' }).plain);
  await fs.waitFor(() => fs.inChat(c).filter((m) => words(m.text) === 12).length === 2);
  t.same(fs.inChat(c).map((m) => m.threadId).sort(), ['omt_a', 'omt_b']);
  const sessions = (await h.gw.backend.sessionsList({ tenant: 'acme', user: 'x', scopes: [] })).sessions.map((s) => s.sessionKey);
  t.ok(sessions.includes(`fs:${c}:omt_a`) && sessions.includes(`fs:${c}:omt_b`), 'one session per thread');
});

t.test('a slow reply streams into one message, edited as it grows', async (t) => {
  const c = chat();
  await send('fsslow', fs.event({ chatId: c, userId: 'ou_ada', text: 'stream please' }).plain);
  await fs.waitFor(() => fs.inChat(c).length === 1 && words(fs.inChat(c)[0]?.text ?? '') === 40);
  t.equal(fs.inChat(c).length, 1, 'one message');
  t.ok((fs.inChat(c)[0]?.edits.length ?? 0) >= 1, `edited ${fs.inChat(c)[0]?.edits.length} times (PUT im/v1/messages/:id)`);
});

t.test('bad webhooks are refused with their status and processed not at all', async (t) => {
  const c = chat();
  const ev = fs.event({ chatId: c, userId: 'ou_ada', text: 'forged' });
  t.equal((await send('fs', ev.plain, { signature: 'e'.repeat(64) })).status, 401, 'forged signature');
  t.equal((await send('fs', ev.plain, { unsigned: true })).status, 401, 'unsigned event');
  t.equal((await send('fs', ev.plain.replace(creds.verificationToken, 'guess'))).status, 401, 'wrong verification token');
  t.equal((await fs.deliver(`${h.url}/channels/fs`, '{"encrypt": ')).status, 400, 'malformed JSON');
  t.equal((await fs.deliver(`${h.url}/channels/fs`, JSON.stringify({ encrypt: 'a'.repeat(1024 * 1024 + 10) }))).status, 413, 'oversized body');
  t.equal((await send('nope', ev.plain)).status, 404, 'unknown channel id');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(fs.inChat(c).length, 0, 'nothing was answered');
});

t.test('a redelivered event (same event_id) is processed once', async (t) => {
  const c = chat();
  const ev = fs.event({ chatId: c, userId: 'ou_ada', text: 'once only' });
  t.equal((await send('fs', ev.plain)).status, 200);
  t.equal((await send('fs', ev.plain)).status, 200);
  await fs.waitFor(() => fs.inChat(c).length === 1 && words(fs.inChat(c)[0]?.text ?? '') === 12);
  await send('fs', fs.event({ chatId: c, userId: 'ou_ada', text: 'next' }).plain);
  await fs.waitFor(() => fs.inChat(c).length === 2);
  t.equal(fs.inChat(c).length, 2);
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'fs', outcome: 'duplicate' }) >= 1);
});

t.test('a frequency limit is retried after its reset, then delivered; so is a platform outage', async (t) => {
  const c = chat();
  fs.fail(FEISHU_THROTTLED).fail({ status: 503, body: { code: 1, msg: 'unavailable' } });
  await send('fs', fs.event({ chatId: c, userId: 'ou_ada', text: 'busy?' }).plain);
  await fs.waitFor(() => fs.inChat(c).length === 1 && words(fs.inChat(c)[0]?.text ?? '') === 12);
  t.equal(fs.pendingFaults, 0);
  t.ok(await h.metric('troupe_channel_retries_total', { channel: 'fs', reason: 'rate_limited' }) >= 1);
});

t.test('a wrong app secret makes that channel unhealthy; the others keep working', async (t) => {
  const health = await h.health();
  t.equal(health.channels.fsbad?.status, 'unhealthy');
  t.equal(health.channels.fs?.status, 'up');
});
