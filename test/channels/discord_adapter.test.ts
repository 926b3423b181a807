import t, { type Test } from 'tap';
import { ChannelAuthError, ChannelSendError } from '../../transports/channels/adapter.js';
import { DiscordAdapter } from '../../transports/channels/discord/adapter.js';
import { DiscordFake, discordRateLimited } from '../fakes/discord_platform.js';
import { testContext } from './adapter_context.js';

const TEXT = '700000000000000001';
const THREAD = '700000000000000002';
const DM = '600000000000000001';

async function setup(t: Test, token = 'bot-token') {
  const fake = new DiscordFake({
    token: 'bot-token',
    channels: [
      { id: TEXT, type: 0, name: 'general' },
      { id: THREAD, type: 11, parent_id: TEXT, name: 'a thread' },
    ],
    heartbeatIntervalMs: 200,
  });
  await fake.start();
  const adapter = new DiscordAdapter({ token, apiBase: fake.apiBase });
  const ctx = testContext();
  t.teardown(async () => {
    await adapter.stop();
    await fake.stop();
  });
  return { fake, adapter, ctx };
}

t.test('start checks the token, then identifies over the gateway and keeps heartbeating', async (t) => {
  const { fake, adapter, ctx } = await setup(t);
  await adapter.start(ctx);
  await fake.identified();
  t.equal(fake.identifies, 1);
  t.ok(fake.requests.some((r) => r.path === '/api/v10/gateway/bot'), 'gateway URL came from GET /gateway/bot');
  await new Promise((r) => setTimeout(r, 700));
  t.ok(fake.heartbeats >= 1, `heartbeats: ${fake.heartbeats}`);
});

t.test('a DM is a direct, addressed message; a guild message is addressed only by a mention or a reply', async (t) => {
  const { fake, adapter, ctx } = await setup(t);
  await adapter.start(ctx);
  await fake.identified();
  const dm = fake.userMessage({ channelId: DM, authorId: '42', content: 'hello bot' });
  fake.userMessage({ channelId: TEXT, authorId: '42', content: 'what is up', guild: true, mentionBot: true });
  fake.userMessage({ channelId: TEXT, authorId: '43', content: 'just chatting', guild: true });
  fake.userMessage({ channelId: TEXT, authorId: '43', content: 'and you?', guild: true, replyToBotMessage: '123' });
  const got = await ctx.waitDelivered(4);
  t.same(got[0], { eventId: dm, chatId: DM, threadId: undefined, userId: '42', userName: 'user42', chatType: 'direct', kind: 'text', text: 'hello bot', addressed: true, messageId: dm });
  t.same(got.slice(1).map((m) => [m.chatType, m.addressed, m.text]), [
    ['group', true, 'what is up'],
    ['group', false, 'just chatting'],
    ['group', true, 'and you?'],
  ]);
});

t.test('a message in a thread belongs to the parent channel with the thread as threadId; replies go to the thread', async (t) => {
  const { fake, adapter, ctx } = await setup(t);
  await adapter.start(ctx);
  await fake.identified();
  fake.userMessage({ channelId: THREAD, authorId: '42', content: 'in thread', guild: true, mentionBot: true });
  const [m] = await ctx.waitDelivered(1);
  t.same([m?.chatId, m?.threadId], [TEXT, THREAD]);
  await adapter.send(TEXT, 'answer', { threadId: THREAD });
  t.same([fake.posted[0]?.chatId, fake.posted[0]?.threadId], [TEXT, THREAD]);
});

t.test('an attachment without text is unsupported; the bot\'s own messages are ignored', async (t) => {
  const { fake, adapter, ctx } = await setup(t);
  await adapter.start(ctx);
  await fake.identified();
  fake.userMessage({ channelId: DM, authorId: fake.botId, content: 'echo' });
  fake.userMessage({ channelId: DM, authorId: '42', content: '', attachment: true });
  const [m] = await ctx.waitDelivered(1);
  t.same([m?.kind, m?.text, ctx.delivered.length], ['unsupported', '', 1]);
});

t.test('send and edit go through REST; a 429 is a retryable error with retry_after; over 2000 chars is a 400', async (t) => {
  const { fake, adapter, ctx } = await setup(t);
  await adapter.start(ctx);
  const sent = await adapter.send(DM, 'first');
  await adapter.edit(DM, sent.messageId, 'first, edited');
  t.same([fake.posted[0]?.text, fake.posted[0]?.edits], ['first, edited', ['first, edited']]);
  fake.fail(discordRateLimited(0.3));
  const limited = await adapter.send(DM, 'x').catch((e: unknown) => e);
  t.ok(limited instanceof ChannelSendError && limited.status === 429 && limited.retryable && (limited.retryAfterMs ?? 0) >= 300, String(limited));
  await new Promise((r) => setTimeout(r, 400));
  t.ok((await adapter.send(DM, 'after the wait')).messageId);
  const long = await adapter.send(DM, 'x'.repeat(2001)).catch((e: unknown) => e);
  t.ok(long instanceof ChannelSendError && long.status === 400 && !long.retryable);
});

t.test('a rejected token fails start with ChannelAuthError', async (t) => {
  const { adapter, ctx } = await setup(t, 'wrong');
  await t.rejects(adapter.start(ctx), ChannelAuthError);
});
