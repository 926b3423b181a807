import t, { type Test } from 'tap';
import { ChannelAuthError, ChannelSendError } from '../../transports/channels/adapter.js';
import { signZalo, ZaloAdapter } from '../../transports/channels/zalo/adapter.js';
import { ZALO_THROTTLED, ZaloFake } from '../fakes/zalo_platform.js';
import { assertRejected, testContext, webhookRequest } from './adapter_context.js';

const creds = { accessToken: 'zalo-token', oaSecretKey: 'oa-secret', appId: '4300000001' };

async function setup(t: Test, accessToken = creds.accessToken) {
  const fake = new ZaloFake(creds);
  await fake.start();
  t.teardown(() => fake.stop());
  return { fake, adapter: new ZaloAdapter({ ...creds, accessToken, apiBase: fake.apiBase }) };
}

t.test('the signature is sha256 of appId, raw body, the body timestamp and the OA secret key', async (t) => {
  const body = '{"timestamp":"1700000000000"}';
  // Computed independently: printf '%s' '4300000001{"timestamp":"1700000000000"}1700000000000oa-secret' | sha256sum
  const { createHash } = await import('node:crypto');
  const expected = createHash('sha256').update(`4300000001${body}1700000000000oa-secret`).digest('hex');
  t.equal(signZalo(creds.appId, body, '1700000000000', creds.oaSecretKey), `mac=${expected}`);
});

t.test('a signed user_send_text becomes one direct message keyed by msg_id', async (t) => {
  const { fake, adapter } = await setup(t);
  const { body, id } = fake.event('user-7', 'xin chào');
  const res = await adapter.handleWebhook(webhookRequest(body, { 'X-ZEvent-Signature': fake.sign(body) }));
  t.equal(res.status, 200);
  t.same(res.messages, [{ eventId: id, chatId: 'user-7', userId: 'user-7', chatType: 'direct', kind: 'text', text: 'xin chào', addressed: true, messageId: id }]);
});

t.test('a forged or missing signature is 401; malformed JSON is 400', async (t) => {
  const { fake, adapter } = await setup(t);
  const { body } = fake.event('u', 'x');
  for (const sig of [undefined, 'mac=' + 'a'.repeat(64), signZalo(creds.appId, body, '1', creds.oaSecretKey)]) {
    await assertRejected(t, () => adapter.handleWebhook(webhookRequest(body, sig ? { 'x-zevent-signature': sig } : {})), 401);
  }
  await assertRejected(t, () => adapter.handleWebhook(webhookRequest('{oops', { 'x-zevent-signature': 'mac=00' })), 400);
});

t.test('an image is unsupported; a follow event is not a message', async (t) => {
  const { fake, adapter } = await setup(t);
  const img = fake.event('u', '', { event: 'user_send_image' });
  t.same((await adapter.handleWebhook(webhookRequest(img.body, { 'x-zevent-signature': fake.sign(img.body) }))).messages.map((m) => m.kind), ['unsupported']);
  const follow = fake.event('u', '', { event: 'follow' });
  t.same((await adapter.handleWebhook(webhookRequest(follow.body, { 'x-zevent-signature': fake.sign(follow.body) }))).messages, []);
});

t.test('send posts a customer-service text with the access_token header, as plain text', async (t) => {
  const { fake, adapter } = await setup(t);
  await adapter.start(testContext());
  const sent = await adapter.send('user-7', adapter.render('## Hi\n**bold** [site](https://x.test)'));
  t.same([fake.posted[0]?.id, fake.posted[0]?.chatId, fake.posted[0]?.text], [sent.messageId, 'user-7', 'Hi\nbold site (https://x.test)']);
});

t.test('error -32 is a retryable 429; an expired token is a non-retryable 401', async (t) => {
  const { fake, adapter } = await setup(t);
  fake.fail(ZALO_THROTTLED).fail({ status: 200, body: { error: -216, message: 'Access token is invalid' } });
  const a = await adapter.send('u', 'x').catch((e: unknown) => e);
  t.ok(a instanceof ChannelSendError && a.status === 429 && a.retryable);
  const b = await adapter.send('u', 'x').catch((e: unknown) => e);
  t.ok(b instanceof ChannelSendError && b.status === 401 && !b.retryable);
});

t.test('a rejected access token fails start with ChannelAuthError', async (t) => {
  const { adapter } = await setup(t, 'bad');
  await t.rejects(adapter.start(testContext()), ChannelAuthError);
});
