// Discord end to end: the gateway in-process with the simulated provider,
// discord.js's gateway and REST clients on our side, and a fake Discord with
// the gateway WebSocket handshake and REST with bucket headers.
import t, { type Test } from 'tap';
import { DiscordFake, discordRateLimited } from '../fakes/discord_platform.js';
import { startChannelGateway } from './harness.js';

const TEXT = '710000000000000001';
const THREAD = '710000000000000002';
const dc = new DiscordFake({
  token: 'discord-bot-token',
  channels: [{ id: TEXT, type: 0, name: 'general' }, { id: THREAD, type: 11, parent_id: TEXT, name: 'a thread' }],
});
await dc.start();
const base = { platform: 'discord', tenant: 'acme', token: 'discord-bot-token', apiBase: dc.apiBase, rate: { perChatPerSecond: 100, perBotPerSecond: 1000 }, access: { mode: 'open' } };
const h = await startChannelGateway([
  { id: 'dc', ...base },
  { id: 'dcbad', ...base, token: 'rejected-token' },
], { agents: [
  { id: 'assistant', model: 'simulated-1', provider: { kind: 'simulated', tokens: 12, latencyMs: 0 } },
  { id: 'slow', model: 'simulated-1', provider: { kind: 'simulated', tokens: 40, latencyMs: 15 } },
  { id: 'long', model: 'simulated-1', provider: { kind: 'simulated', tokens: 1500, latencyMs: 0 } },
] });
t.teardown(async () => {
  await h.close();
  await dc.stop();
});
await dc.identified();

const words = (s: string) => s.trim().split(/\s+/).filter(Boolean).length;
let next = 600_000_000_000_000_001n;
const dm = () => String(next++);

t.test('the gateway session was identified over the fake WebSocket', async (t) => {
  t.ok(dc.identifies >= 1);
  t.ok(dc.requests.some((r) => r.path === '/api/v10/gateway/bot'), 'the gateway URL came from GET /gateway/bot');
});

t.test('a direct message is answered', async (t) => {
  const c = dm();
  dc.userMessage({ channelId: c, authorId: '42', content: 'hello there' });
  await dc.waitFor(() => dc.inChat(c).length === 1 && words(dc.inChat(c)[0]?.text ?? '') === 12);
  const sessions = (await h.gw.backend.sessionsList({ tenant: 'acme', user: 'x', scopes: [] })).sessions.map((s) => s.sessionKey);
  t.ok(sessions.includes(`dc:${c}`));
});

t.test('in a server channel the bot answers a mention, and nothing else', async (t) => {
  const before = dc.inChat(TEXT).length;
  dc.userMessage({ channelId: TEXT, authorId: '43', content: 'just chatting', guild: true });
  dc.userMessage({ channelId: TEXT, authorId: '43', content: 'what is an actor?', guild: true, mentionBot: true });
  await dc.waitFor(() => dc.inChat(TEXT).filter((m) => m.threadId === undefined).length === before + 1);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(dc.inChat(TEXT).filter((m) => m.threadId === undefined).length, before + 1);
});

t.test('a thread is its own session and the reply goes into the thread', async (t) => {
  dc.userMessage({ channelId: THREAD, authorId: '43', content: 'in the thread', guild: true, mentionBot: true });
  await dc.waitFor(() => dc.inChat(TEXT, THREAD).length === 1);
  const sessions = (await h.gw.backend.sessionsList({ tenant: 'acme', user: 'x', scopes: [] })).sessions.map((s) => s.sessionKey);
  t.ok(sessions.includes(`dc:${TEXT}:${THREAD}`));
});

/** A second bot (its own fake Discord and gateway session) answered by `agent`. */
async function botWith(t: Test, agent: string): Promise<DiscordFake> {
  const fake = new DiscordFake({ token: `discord-${agent}-token` });
  await fake.start();
  const g = await startChannelGateway([{ ...base, id: `dc${agent}`, agent, token: `discord-${agent}-token`, apiBase: fake.apiBase }]);
  t.teardown(async () => {
    await g.close();
    await fake.stop();
  });
  await fake.identified();
  return fake;
}

t.test('a slow reply streams into one message, edited as it grows', async (t) => {
  const bot = await botWith(t, 'slow');
  const c = dm();
  bot.userMessage({ channelId: c, authorId: '48', content: 'stream please' });
  await bot.waitFor(() => bot.inChat(c).length === 1 && words(bot.inChat(c)[0]?.text ?? '') === 40);
  t.equal(bot.inChat(c).length, 1, 'one message');
  t.ok((bot.inChat(c)[0]?.edits.length ?? 0) >= 1, `edited ${bot.inChat(c)[0]?.edits.length} times (PATCH /channels/:id/messages/:id)`);
});

t.test('a long reply is split within 2000 characters, losing no word', async (t) => {
  const bot = await botWith(t, 'long');
  const c = dm();
  bot.userMessage({ channelId: c, authorId: '44', content: 'write a lot' });
  await bot.waitFor(() => bot.inChat(c).reduce((n, m) => n + words(m.text), 0) === 1500);
  t.ok(bot.inChat(c).length >= 4, `${bot.inChat(c).length} messages`);
  for (const m of bot.inChat(c)) t.ok(m.text.length <= 2000, `piece of ${m.text.length} characters`);
});

t.test('a redelivered MESSAGE_CREATE (same id) is processed once', async (t) => {
  const c = dm();
  const id = dc.userMessage({ channelId: c, authorId: '45', content: 'once only' });
  dc.userMessage({ channelId: c, authorId: '45', content: 'once only', id });
  await dc.waitFor(() => dc.inChat(c).length === 1);
  dc.userMessage({ channelId: c, authorId: '45', content: 'next' });
  await dc.waitFor(() => dc.inChat(c).length === 2);
  t.equal(dc.inChat(c).length, 2);
});

t.test('a 429 is retried after its retry_after, then delivered', async (t) => {
  const c = dm();
  dc.fail(discordRateLimited(0.3));
  dc.userMessage({ channelId: c, authorId: '46', content: 'busy?' });
  await dc.waitFor(() => dc.inChat(c).length === 1 && words(dc.inChat(c)[0]?.text ?? '') === 12);
  t.equal(dc.pendingFaults, 0);
  t.ok(await h.metric('troupe_channel_retries_total', { channel: 'dc', reason: 'rate_limited' }) >= 1);
});

t.test('while Discord REST is down replies are retried, and delivered when it is back', async (t) => {
  const c = dm();
  dc.fail({ status: 502, body: { message: 'Bad Gateway', code: 0 } }, 2);
  dc.userMessage({ channelId: c, authorId: '47', content: 'are you there?' });
  await dc.waitFor(() => dc.inChat(c).length === 1 && words(dc.inChat(c)[0]?.text ?? '') === 12);
  t.equal(dc.pendingFaults, 0);
});

t.test('a rejected token makes that channel unhealthy; the others keep working', async (t) => {
  const health = await h.health();
  t.equal(health.channels.dcbad?.status, 'unhealthy');
  t.equal(health.channels.dc?.status, 'up');
  t.notMatch(await h.metrics(), /discord-bot-token|rejected-token/);
});
