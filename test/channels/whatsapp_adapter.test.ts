import t, { type Test } from 'tap';
import { ChannelAuthError, ChannelSendError } from '../../transports/channels/adapter.js';
import { signWhatsApp, WhatsAppAdapter } from '../../transports/channels/whatsapp/adapter.js';
import { WHATSAPP_THROTTLED, WhatsAppFake } from '../fakes/whatsapp_platform.js';
import { assertRejected, testContext, webhookRequest } from './adapter_context.js';

const creds = { accessToken: 'EAAG-test', appSecret: 'app-secret', verifyToken: 'verify-me', phoneNumberId: '1065550001' };

async function setup(t: Test, accessToken = creds.accessToken) {
  const fake = new WhatsAppFake(creds);
  await fake.start();
  t.teardown(() => fake.stop());
  const adapter = new WhatsAppAdapter({ ...creds, accessToken, apiBase: fake.apiBase });
  return { fake, adapter };
}

t.test('the subscription GET echoes hub.challenge only for the right verify token', async (t) => {
  const { adapter } = await setup(t);
  const ok = await adapter.handleWebhook(webhookRequest('', {}, { method: 'GET', query: 'hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444' }));
  t.same([ok.status, ok.body, ok.messages.length], [200, '1158201444', 0]);
  await assertRejected(t, () => adapter.handleWebhook(webhookRequest('', {}, { method: 'GET', query: 'hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1' })), 403);
});

t.test('a signed text message becomes one direct, addressed message keyed by its wamid', async (t) => {
  const { fake, adapter } = await setup(t);
  const { body, id } = fake.notification({ from: '15551234567', text: 'hello there', name: 'Ana' });
  const res = await adapter.handleWebhook(webhookRequest(body, { 'X-Hub-Signature-256': signWhatsApp(creds.appSecret, body) }));
  t.equal(res.status, 200);
  t.same(res.messages, [
    { eventId: id, chatId: '15551234567', userId: '15551234567', userName: 'Ana', chatType: 'direct', kind: 'text', text: 'hello there', addressed: true, messageId: id },
  ]);
});

t.test('a forged, missing or other-secret signature is 401 and nothing is parsed', async (t) => {
  const { fake, adapter } = await setup(t);
  const { body } = fake.notification({ from: '1', text: 'x' });
  for (const sig of [undefined, 'sha256=' + '0'.repeat(64), signWhatsApp('other-secret', body), signWhatsApp(creds.appSecret, body + ' ')]) {
    await assertRejected(t, () => adapter.handleWebhook(webhookRequest(body, sig ? { 'x-hub-signature-256': sig } : {})), 401);
  }
});

t.test('a correctly signed body that is not JSON, or not a WhatsApp notification, is 400', async (t) => {
  const { adapter } = await setup(t);
  for (const body of ['{not json', '[]', '{"object":"page","entry":[]}']) {
    await assertRejected(t, () => adapter.handleWebhook(webhookRequest(body, { 'x-hub-signature-256': signWhatsApp(creds.appSecret, body) })), 400);
  }
});

t.test('an image is an unsupported message; status updates and other numbers are ignored', async (t) => {
  const { fake, adapter } = await setup(t);
  const image = fake.notification({ from: '1', type: 'image' });
  const res = await adapter.handleWebhook(webhookRequest(image.body, { 'x-hub-signature-256': signWhatsApp(creds.appSecret, image.body) }));
  t.same(res.messages.map((m) => [m.kind, m.text]), [['unsupported', '']]);
  const other = image.body.replace(creds.phoneNumberId, '999');
  const res2 = await adapter.handleWebhook(webhookRequest(other, { 'x-hub-signature-256': signWhatsApp(creds.appSecret, other) }));
  t.equal(res2.messages.length, 0);
});

t.test('send posts a text message through the Graph API and returns its wamid', async (t) => {
  const { fake, adapter } = await setup(t);
  await adapter.start(testContext());
  const sent = await adapter.send('15551234567', adapter.render('**bold** and *it*'), { replyTo: 'wamid.in.1' });
  t.equal(fake.posted.length, 1);
  t.same([fake.posted[0]?.id, fake.posted[0]?.text, fake.posted[0]?.replyTo], [sent.messageId, '*bold* and _it_', 'wamid.in.1']);
});

t.test('throttling is a retryable 429 with its Retry-After; a 5xx is retryable; a 400 is not', async (t) => {
  const { fake, adapter } = await setup(t);
  fake.fail(WHATSAPP_THROTTLED).fail({ status: 503, body: { error: { message: 'down', code: 2 } } });
  const first = await adapter.send('1', 'a').catch((e: unknown) => e);
  t.ok(first instanceof ChannelSendError && first.status === 429 && first.retryable && first.retryAfterMs === 1000);
  const second = await adapter.send('1', 'a').catch((e: unknown) => e);
  t.ok(second instanceof ChannelSendError && second.status === 503 && second.retryable);
  const tooLong = await adapter.send('1', 'x'.repeat(4097)).catch((e: unknown) => e);
  t.ok(tooLong instanceof ChannelSendError && tooLong.status === 400 && !tooLong.retryable);
  t.equal((await adapter.send('1', 'now it works')).messageId.startsWith('wamid.'), true);
});

t.test('a rejected access token fails start with ChannelAuthError', async (t) => {
  const { adapter } = await setup(t, 'wrong-token');
  await t.rejects(adapter.start(testContext()), ChannelAuthError);
});
