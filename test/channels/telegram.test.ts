// Telegram end to end: the gateway in-process with the simulated provider,
// grammY on our side, a fake Bot API speaking Telegram's wire format.
import t from 'tap';
import { HELP_TEXT } from '../../transports/channels/commands.js';
import { FakeTelegram, TG_SECRET, TG_TOKEN } from '../fakes/telegram_platform.js';
import { startChannelGateway, type ChannelGateway } from './harness.js';

const tg = new FakeTelegram();
await tg.start();
const fast = { perChatPerSecond: 100, perBotPerSecond: 1000 };
const base = { platform: 'telegram', tenant: 'acme', token: TG_TOKEN, webhookSecret: TG_SECRET, apiBase: tg.url, rate: fast };
const h: ChannelGateway = await startChannelGateway([
  { id: 'tg', ...base, access: { mode: 'open' } },
  { id: 'tgslow', ...base, agent: 'slow', access: { mode: 'open' } },
  { id: 'tglong', ...base, agent: 'long', access: { mode: 'open' } },
  { id: 'tgallow', ...base, access: { mode: 'allowlist', users: ['1'] } },
  { id: 'tgpoll', platform: 'telegram', tenant: 'acme', token: TG_TOKEN, apiBase: tg.url, mode: 'polling', rate: fast, access: { mode: 'open' } },
  { id: 'tgbad', platform: 'telegram', tenant: 'acme', token: '123456789:AAWrongTokenWrongTokenWrongToken_xyz', webhookSecret: TG_SECRET, apiBase: tg.url },
]);
t.teardown(async () => {
  await h.close();
  await tg.stop();
});

const SIGNED = { 'x-telegram-bot-api-secret-token': TG_SECRET };
const words = (s: string) => s.trim().split(/\s+/).filter(Boolean).length;
let nextChat = 10_000;
const chat = () => nextChat++;

t.test('a direct message is acknowledged at once and answered in HTML', async (t) => {
  const c = chat();
  const res = await h.post('tg', tg.update({ chatId: c, userId: c, text: 'hello there' }), SIGNED);
  t.equal(res.status, 200);
  await tg.waitFor('the reply', () => tg.inChat(c).length === 1);
  t.equal(words(tg.inChat(c)[0].text), 12, 'the simulated agent answered with its 12 words');
  const call = tg.callsOf('sendMessage').find((x) => String(x.params.chat_id) === String(c));
  t.equal(call?.params.parse_mode, 'HTML');
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'tg', direction: 'in', outcome: 'received' }) >= 1);
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'tg', direction: 'out', outcome: 'sent' }) >= 1);
});

t.test('in a group the bot answers a mention or a reply to it, and nothing else', async (t) => {
  const c = -chat();
  await h.post('tg', tg.update({ chatId: c, group: true, text: 'just chatting' }), SIGNED);
  await h.post('tg', tg.update({ chatId: c, group: true, mention: true, text: 'what is an actor?' }), SIGNED);
  await tg.waitFor('the answer to the mention', () => tg.inChat(c).length === 1);
  await h.post('tg', tg.update({ chatId: c, group: true, replyToBot: true, text: 'tell me more' }), SIGNED);
  await tg.waitFor('the answer to the reply', () => tg.inChat(c).length === 2);
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'tg', outcome: 'ignored' }) >= 1, 'the unaddressed message was counted as ignored');
  const sessions = (await h.gw.backend.sessionsList({ tenant: 'acme', user: 'x', scopes: [] })).sessions.map((s) => s.sessionKey);
  t.ok(sessions.includes(`tg:${c}`), 'one session for the group chat');
});

t.test('forum topics are separate sessions and replies stay in their topic', async (t) => {
  const c = -chat();
  await h.post('tg', tg.update({ chatId: c, group: true, mention: true, threadId: 7, text: 'topic seven' }), SIGNED);
  await h.post('tg', tg.update({ chatId: c, group: true, mention: true, threadId: 8, text: 'topic eight' }), SIGNED);
  await tg.waitFor('both answers', () => tg.inChat(c).length === 2);
  t.same(tg.inChat(c).map((m) => m.threadId).sort(), ['7', '8']);
  const sessions = (await h.gw.backend.sessionsList({ tenant: 'acme', user: 'x', scopes: [] })).sessions.map((s) => s.sessionKey);
  t.ok(sessions.includes(`tg:${c}:7`) && sessions.includes(`tg:${c}:8`), 'one session per topic');
});

t.test('a slow reply streams into one message, edited as it grows', async (t) => {
  const c = chat();
  await h.post('tgslow', tg.update({ chatId: c, userId: c, text: 'stream please' }), SIGNED);
  await tg.waitFor('the whole reply', () => tg.inChat(c).length === 1 && words(tg.inChat(c)[0].text) === 40);
  t.equal(tg.inChat(c).length, 1, 'one message');
  t.ok(tg.inChat(c)[0].edits.length >= 1, `edited ${tg.inChat(c)[0].edits.length} times`);
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'tgslow', direction: 'out', outcome: 'edited' }) >= 1);
  const calls = tg.requests.filter((r) => String((r.body as { chat_id?: unknown } | undefined)?.chat_id) === String(c)).map((r) => r.path.split('/').pop());
  t.same(calls.slice(0, 2), ['sendChatAction', 'sendMessage'], 'typing… was shown while the user waited for the first text');
});

t.test('a long reply is split into messages within 4096 characters, losing no word', async (t) => {
  const c = chat();
  await h.post('tglong', tg.update({ chatId: c, userId: c, text: 'write a lot' }), SIGNED);
  await tg.waitFor('all pieces', () => tg.inChat(c).reduce((n, m) => n + words(m.text), 0) === 1500);
  t.ok(tg.inChat(c).length >= 3, `${tg.inChat(c).length} messages`);
  for (const m of tg.inChat(c)) t.ok(m.text.length <= 4096, `piece of ${m.text.length} characters`);
});

t.test('a photo gets a "not supported yet" answer and is counted', async (t) => {
  const c = chat();
  await h.post('tg', tg.update({ chatId: c, userId: c, photo: true }), SIGNED);
  await tg.waitFor('the answer', () => tg.inChat(c).length === 1);
  t.match(tg.inChat(c)[0].text, /not supported yet/);
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'tg', outcome: 'unsupported' }) >= 1);
});

t.test('/help lists the commands, /new starts a fresh session, /stop answers', async (t) => {
  const c = chat();
  await h.post('tg', tg.update({ chatId: c, userId: c, text: '/help' }), SIGNED);
  await tg.waitFor('help', () => tg.inChat(c).length === 1);
  t.match(tg.inChat(c)[0].text, /\/new/);
  t.equal(tg.inChat(c)[0].text, HELP_TEXT.replace(/&/g, '&amp;'));
  await h.post('tg', tg.update({ chatId: c, userId: c, text: 'first' }), SIGNED);
  await tg.waitFor('answer', () => tg.inChat(c).length === 2);
  await h.post('tg', tg.update({ chatId: c, userId: c, text: '/new' }), SIGNED);
  await tg.waitFor('new', () => tg.inChat(c).length === 3);
  await h.post('tg', tg.update({ chatId: c, userId: c, text: 'second' }), SIGNED);
  await tg.waitFor('answer', () => tg.inChat(c).length === 4);
  const sessions = (await h.gw.backend.sessionsList({ tenant: 'acme', user: 'x', scopes: [] })).sessions.map((s) => s.sessionKey);
  t.ok(sessions.includes(`tg:${c}`), 'the first session');
  t.ok(sessions.some((k) => k.startsWith(`tg:${c}#`)), 'and a fresh one after /new');
  await h.post('tg', tg.update({ chatId: c, userId: c, text: '/stop' }), SIGNED);
  await tg.waitFor('stop', () => tg.inChat(c).length === 5);
  t.match(tg.inChat(c)[4].text, /Nothing to stop|Stopped/);
});

t.test('bad webhooks are refused with their status, processed not at all, and counted', async (t) => {
  const c = chat();
  const before = tg.posted.length;
  t.equal((await h.post('tg', tg.update({ chatId: c, userId: c }))).status, 401, 'no secret header');
  t.equal((await h.post('tg', tg.update({ chatId: c, userId: c }), { 'x-telegram-bot-api-secret-token': 'forged' })).status, 401, 'wrong secret');
  t.equal((await h.post('tg', '{"update_id": 1, "message": ', SIGNED)).status, 400, 'malformed JSON');
  t.equal((await h.post('tg', { update_id: 'x' }, SIGNED)).status, 400, 'not an update');
  t.equal((await h.post('tg', Buffer.alloc(1024 * 1024 + 10, 'a'), SIGNED)).status, 413, 'oversized body');
  t.equal((await h.post('nope', tg.update({ chatId: c }), SIGNED)).status, 404, 'unknown channel id');
  t.equal(tg.posted.length, before, 'nothing was answered');
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'tg', outcome: 'bad_signature' }) >= 2);
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'tg', outcome: 'malformed' }) >= 2);
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'tg', outcome: 'too_large' }) >= 1);
  t.ok(await h.metric('troupe_channel_messages_total', { channel: '_unknown', outcome: 'unknown_channel' }) >= 1);
});

t.test('a redelivered update is processed once', async (t) => {
  const c = chat();
  const update = tg.update({ chatId: c, userId: c, text: 'once only' });
  t.equal((await h.post('tg', update, SIGNED)).status, 200);
  t.equal((await h.post('tg', update, SIGNED)).status, 200, 'redelivery is acknowledged too');
  await tg.waitFor('the reply', () => tg.inChat(c).length === 1);
  await tg.waitFor('the duplicate counted', () => true);
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'tg', outcome: 'duplicate' }) >= 1);
  // A later message is answered, so the duplicate really was dropped rather than queued.
  await h.post('tg', tg.update({ chatId: c, userId: c, text: 'next' }), SIGNED);
  await tg.waitFor('the next reply', () => tg.inChat(c).length === 2);
  t.equal(tg.inChat(c).length, 2);
});

t.test('polling mode reads getUpdates and answers', async (t) => {
  const c = chat();
  tg.queueUpdate(tg.update({ chatId: c, userId: c, text: 'polled' }));
  await tg.waitFor('the reply', () => tg.inChat(c).length === 1);
  t.equal(words(tg.inChat(c)[0].text), 12);
});

t.test('a 429 is retried after its retry_after, then delivered', async (t) => {
  const c = chat();
  tg.fail({ status: 429, body: { ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } } });
  const retries = await h.metric('troupe_channel_retries_total', { channel: 'tg', reason: 'rate_limited' });
  await h.post('tg', tg.update({ chatId: c, userId: c, text: 'busy?' }), SIGNED);
  await tg.waitFor('the reply', () => tg.inChat(c).length === 1);
  t.equal(tg.callsOf('sendMessage').filter((x) => String(x.params.chat_id) === String(c)).length, 2, 'refused once, then sent');
  t.equal(await h.metric('troupe_channel_retries_total', { channel: 'tg', reason: 'rate_limited' }), retries + 1);
});

t.test('while Telegram is down replies are retried with backoff, and delivered when it is back', async (t) => {
  const c = chat();
  tg.down = true;
  await h.post('tg', tg.update({ chatId: c, userId: c, text: 'are you there?' }), SIGNED);
  await tg.waitFor('two failed sends', () => tg.callsOf('sendMessage').filter((x) => String(x.params.chat_id) === String(c)).length >= 2);
  tg.down = false;
  await tg.waitFor('the reply', () => tg.inChat(c).length === 1);
  t.equal(words(tg.inChat(c)[0].text), 12);
  // A 502 page from Telegram's front is not Bot API JSON: grammY reports it as no answer.
  t.ok(await h.metric('troupe_channel_retries_total', { channel: 'tg', reason: 'no_answer' }) >= 2);
});

t.test('a reply that still fails after the bound is audited and counted, never silent', async (t) => {
  const c = chat();
  const drops = await h.metric('troupe_channel_drops_total', { channel: 'tg', reason: 'rejected' });
  tg.fail({ status: 403, body: { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' } });
  await h.post('tg', tg.update({ chatId: c, userId: c, text: 'blocked' }), SIGNED);
  await tg.waitFor('the refused send', () => tg.callsOf('sendMessage').some((x) => String(x.params.chat_id) === String(c)));
  for (let i = 0; i < 100 && (await h.metric('troupe_channel_drops_total', { channel: 'tg', reason: 'rejected' })) === drops; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(await h.metric('troupe_channel_drops_total', { channel: 'tg', reason: 'rejected' }), drops + 1);
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'tg', direction: 'out', outcome: 'failed' }) >= 1);
});

t.test('under allowlist a user not on the list is refused politely and reaches no agent', async (t) => {
  const c = chat();
  const sessionsBefore = (await h.gw.backend.sessionsList({ tenant: 'acme', user: 'x', scopes: [] })).sessions.length;
  await h.post('tgallow', tg.update({ chatId: c, userId: c, text: 'let me in' }), SIGNED);
  await tg.waitFor('the refusal', () => tg.inChat(c).length === 1);
  t.match(tg.inChat(c)[0].text, /private/);
  t.equal((await h.gw.backend.sessionsList({ tenant: 'acme', user: 'x', scopes: [] })).sessions.length, sessionsBefore, 'no session was started');
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'tgallow', outcome: 'denied' }) >= 1);
});

t.test('a channel whose token is rejected is unhealthy; the gateway and other channels keep working', async (t) => {
  const health = await h.health();
  t.equal(health.channels.tgbad.status, 'unhealthy');
  t.match(health.channels.tgbad.reason, /credentials rejected/);
  t.equal(health.channels.tg.status, 'up');
  t.equal(await h.metric('troupe_channel_up', { channel: 'tgbad' }), 0);
  t.equal(await h.metric('troupe_channel_up', { channel: 'tg' }), 1);
  t.equal((await h.post('tgbad', tg.update({}), SIGNED)).status, 503);
  const c = chat();
  await h.post('tg', tg.update({ chatId: c, userId: c, text: 'still there?' }), SIGNED);
  await tg.waitFor('the reply', () => tg.inChat(c).length === 1);
  t.notMatch(await h.metrics(), /AAWrongToken|AAFakeTelegram/, 'no bot token in /metrics');
});
