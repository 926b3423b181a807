import t, { type Test } from 'tap';
import { ChannelAuthError, ChannelSendError } from '../../transports/channels/adapter.js';
import { FeishuAdapter } from '../../transports/channels/feishu/adapter.js';
import { decryptFeishu, encryptFeishu, signFeishu } from '../../transports/channels/feishu/crypto.js';
import { FEISHU_THROTTLED, FeishuFake } from '../fakes/feishu_platform.js';
import { assertRejected, testContext, webhookRequest } from './adapter_context.js';

const creds = { appId: 'cli_test', appSecret: 'secret', verificationToken: 'vtoken', encryptKey: 'ekey' };

async function setup(t: Test, opts: { appSecret?: string; encryptKey?: string | null } = {}) {
  const encryptKey = opts.encryptKey === null ? undefined : (opts.encryptKey ?? creds.encryptKey);
  const fake = new FeishuFake({ ...creds, encryptKey });
  await fake.start();
  t.teardown(() => fake.stop());
  const adapter = new FeishuAdapter({ ...creds, encryptKey, appSecret: opts.appSecret ?? creds.appSecret, apiBase: fake.apiBase });
  return { fake, adapter };
}

function signed(fake: FeishuFake, raw: string, headers: Record<string, string> = {}) {
  const ts = '1700000000';
  const nonce = 'n1';
  return webhookRequest(raw, {
    'x-lark-request-timestamp': ts,
    'x-lark-request-nonce': nonce,
    'x-lark-signature': signFeishu(ts, nonce, fake.config.encryptKey ?? '', raw),
    ...headers,
  });
}

t.test('AES-256-CBC with key sha256(encryptKey) and the IV in front round-trips; a wrong key does not decrypt', async (t) => {
  const enc = encryptFeishu('k1', '{"a":1}');
  t.equal(decryptFeishu('k1', enc), '{"a":1}');
  t.not(decryptFeishu('k2', enc), '{"a":1}');
  t.equal(decryptFeishu('k1', 'c2hvcnQ='), undefined);
});

t.test('the encrypted url_verification is answered with its challenge, even unsigned', async (t) => {
  const { fake, adapter } = await setup(t);
  const res = await adapter.handleWebhook(webhookRequest(fake.wire(fake.challenge('ch-42'))));
  t.same([res.status, JSON.parse(res.body ?? '{}'), res.messages.length], [200, { challenge: 'ch-42' }, 0]);
});

t.test('a signed, encrypted message event becomes a message keyed by event_id', async (t) => {
  const { fake, adapter } = await setup(t);
  await adapter.start(testContext());
  const ev = fake.event({ chatId: 'oc_1', userId: 'ou_user', text: 'hi there' });
  const res = await adapter.handleWebhook(signed(fake, fake.wire(ev.plain)));
  t.same(res.messages, [
    { eventId: ev.eventId, chatId: 'oc_1', threadId: undefined, userId: 'ou_user', chatType: 'direct', kind: 'text', text: 'hi there', addressed: true, messageId: ev.messageId },
  ]);
});

t.test('in a group only a mention of this bot addresses it, and the mention is removed', async (t) => {
  const { fake, adapter } = await setup(t);
  await adapter.start(testContext());
  const a = fake.event({ chatId: 'oc_g', userId: 'ou_u', text: 'summarise', chatType: 'group', mentionBot: true, threadId: 'omt_1' });
  const b = fake.event({ chatId: 'oc_g', userId: 'ou_u', text: 'chatter', chatType: 'group' });
  const [ma] = (await adapter.handleWebhook(signed(fake, fake.wire(a.plain)))).messages;
  const [mb] = (await adapter.handleWebhook(signed(fake, fake.wire(b.plain)))).messages;
  t.same([ma?.chatType, ma?.addressed, ma?.text, ma?.threadId], ['group', true, 'summarise', 'omt_1']);
  t.same([mb?.addressed, mb?.text], [false, 'chatter']);
});

t.test('a bad signature, a wrong verification token, or a plaintext event under an encryptKey is 401', async (t) => {
  const { fake, adapter } = await setup(t);
  const ev = fake.event({ chatId: 'oc', userId: 'ou' });
  const wire = fake.wire(ev.plain);
  await assertRejected(t, () => adapter.handleWebhook(signed(fake, wire, { 'x-lark-signature': 'f'.repeat(64) })), 401);
  await assertRejected(t, () => adapter.handleWebhook(webhookRequest(wire)), 401, 'unsigned event');
  await assertRejected(t, () => adapter.handleWebhook(signed(fake, fake.wire(ev.plain.replace('vtoken', 'other')))), 401);
  await assertRejected(t, () => adapter.handleWebhook(signed(fake, ev.plain)), 401);
  await assertRejected(t, () => adapter.handleWebhook(signed(fake, JSON.stringify({ encrypt: encryptFeishu('wrong-key', ev.plain) }))), 401);
  await assertRejected(t, () => adapter.handleWebhook(signed(fake, '{nope')), 400);
});

t.test('without an encryptKey, plaintext events are checked by verification token alone', async (t) => {
  const { fake, adapter } = await setup(t, { encryptKey: null });
  const ev = fake.event({ chatId: 'oc', userId: 'ou', text: 'plain' });
  t.equal((await adapter.handleWebhook(webhookRequest(ev.plain))).messages[0]?.text, 'plain');
  await assertRejected(t, () => adapter.handleWebhook(webhookRequest(ev.plain.replace('vtoken', 'x'))), 401);
});

t.test('the SDK fetches one tenant token, then sends, replies in thread and edits post messages', async (t) => {
  const { fake, adapter } = await setup(t);
  await adapter.start(testContext());
  const first = await adapter.send('oc_1', '**hello**');
  await adapter.edit('oc_1', first.messageId, '**hello** world');
  const inbound = fake.event({ chatId: 'oc_g', userId: 'ou', threadId: 'omt_9', chatType: 'group' });
  const inThread = await adapter.send('oc_g', 'in thread', { threadId: 'omt_9', replyTo: inbound.messageId });
  t.equal(fake.tokenRequests, 1);
  t.same(fake.posted.map((m) => [m.chatId, m.text, m.edits.length, m.threadId]), [
    ['oc_1', '**hello** world', 1, undefined],
    ['oc_g', 'in thread', 0, 'omt_9'],
  ]);
  t.equal(fake.posted[1]?.id, inThread.messageId);
});

t.test('a frequency limit is a retryable 429 with its reset; a 5xx is retryable', async (t) => {
  const { fake, adapter } = await setup(t);
  await adapter.start(testContext());
  fake.fail(FEISHU_THROTTLED).fail({ status: 502, body: 'bad gateway' });
  const a = await adapter.send('oc', 'x').catch((e: unknown) => e);
  t.ok(a instanceof ChannelSendError && a.status === 429 && a.retryAfterMs === 1000);
  const b = await adapter.send('oc', 'x').catch((e: unknown) => e);
  t.ok(b instanceof ChannelSendError && b.status === 502 && b.retryable);
  t.ok((await adapter.send('oc', 'x')).messageId);
});

t.test('a wrong app secret fails start with ChannelAuthError', async (t) => {
  const { adapter } = await setup(t, { appSecret: 'wrong' });
  await t.rejects(adapter.start(testContext()), ChannelAuthError);
});
