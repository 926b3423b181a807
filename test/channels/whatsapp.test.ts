// WhatsApp end to end: the gateway in-process with the simulated provider,
// our thin Graph client, and a fake Cloud API that signs webhooks as Meta does.
import t from 'tap';
import { signWhatsApp } from '../../transports/channels/whatsapp/adapter.js';
import { WHATSAPP_THROTTLED, WhatsAppFake } from '../fakes/whatsapp_platform.js';
import { startChannelGateway } from './harness.js';

const creds = { accessToken: 'EAAG-whatsapp-test-token', appSecret: 'wa-app-secret', verifyToken: 'wa-verify', phoneNumberId: '1065550001' };
const wa = new WhatsAppFake(creds);
await wa.start();
const fast = { perChatPerSecond: 100, perBotPerSecond: 1000 };
const base = { platform: 'whatsapp', tenant: 'acme', ...creds, apiBase: wa.apiBase, rate: fast, access: { mode: 'open' } };
const h = await startChannelGateway([
  { id: 'wa', ...base },
  { id: 'walong', ...base, agent: 'long' },
  { id: 'wabreak', ...base, agent: 'breaks' },
  { id: 'wapair', ...base, access: { mode: 'pairing' } },
  { id: 'wabad', ...base, accessToken: 'revoked-token' },
]);
t.teardown(async () => {
  await h.close();
  await wa.stop();
});

const words = (s: string) => s.trim().split(/\s+/).filter(Boolean).length;
let next = 15_551_000_000;
const user = () => String(next++);
const deliver = (id: string, body: string, sig = signWhatsApp(creds.appSecret, body)) => h.post(id, body, { 'x-hub-signature-256': sig });

t.test('the Cloud API subscription check echoes hub.challenge, and refuses a wrong verify token', async (t) => {
  const ok = await h.get('/channels/wa?hub.mode=subscribe&hub.verify_token=wa-verify&hub.challenge=8231');
  t.same([ok.status, ok.text], [200, '8231']);
  t.equal((await h.get('/channels/wa?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1')).status, 403);
});

t.test('a direct message is acknowledged at once and answered whole', async (t) => {
  const u = user();
  const { body } = wa.notification({ from: u, text: 'hello there' });
  t.equal((await deliver('wa', body)).status, 200);
  await wa.waitFor(() => wa.inChat(u).length === 1);
  const [m] = wa.inChat(u);
  t.equal(words(m?.text ?? ''), 12, 'the simulated agent answered with its 12 words');
  t.equal(m?.edits.length, 0, 'WhatsApp cannot edit: sent whole');
  const sessions = (await h.gw.backend.sessionsList({ tenant: 'acme', user: 'x', scopes: [] })).sessions.map((s) => s.sessionKey);
  t.ok(sessions.includes(`wa:${u}`), 'the session is <channel>:<wa_id>');
});

t.test('a long reply is split into messages within 4096 characters, losing no word', async (t) => {
  const u = user();
  await deliver('walong', wa.notification({ from: u, text: 'write a lot' }).body);
  await wa.waitFor(() => wa.inChat(u).reduce((n, m) => n + words(m.text), 0) === 1500);
  t.ok(wa.inChat(u).length >= 2, `${wa.inChat(u).length} messages`);
  for (const m of wa.inChat(u)) t.ok(m.text.length <= 4096, `piece of ${m.text.length} characters`);
});

t.test('a run that fails half-way sends what it had said, then the error note', async (t) => {
  const u = user();
  await deliver('wabreak', wa.notification({ from: u, text: 'go on' }).body);
  await wa.waitFor(() => wa.inChat(u).length === 1);
  const parts = (wa.inChat(u)[0]?.text ?? '').split('\n\n');
  t.equal(parts.length, 2, 'one message: what the run had said, then the note');
  t.equal(words(parts[0] ?? ''), 6, 'the 6 words streamed before the failure are not lost');
  t.notMatch(parts[0], /Sorry/);
  t.match(parts[1], /^Sorry, I could not answer \(/, 'followed by the error note');
});

t.test('an image gets a "not supported yet" answer', async (t) => {
  const u = user();
  await deliver('wa', wa.notification({ from: u, type: 'image' }).body);
  await wa.waitFor(() => wa.inChat(u).length === 1);
  t.match(wa.inChat(u)[0]?.text, /not supported yet/);
});

t.test('bad webhooks are refused with their status and processed not at all', async (t) => {
  const u = user();
  const { body } = wa.notification({ from: u, text: 'forged' });
  const before = wa.posted.length;
  t.equal((await h.post('wa', body)).status, 401, 'no signature');
  t.equal((await deliver('wa', body, signWhatsApp('not-the-app-secret', body))).status, 401, 'forged signature');
  t.equal((await deliver('wa', body.replace('forged', 'tampered'), signWhatsApp(creds.appSecret, body))).status, 401, 'body changed after signing');
  t.equal((await deliver('wa', '{"object": "whatsapp_business_account", ')).status, 400, 'malformed JSON, correctly signed');
  const big = JSON.stringify({ object: 'whatsapp_business_account', entry: [], pad: 'a'.repeat(1024 * 1024 + 10) });
  t.equal((await deliver('wa', big)).status, 413, 'oversized body');
  t.equal((await deliver('nope', body)).status, 404, 'unknown channel id');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(wa.posted.length, before, 'nothing was answered');
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'wa', outcome: 'bad_signature' }) >= 3);
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'wa', outcome: 'malformed' }) >= 1);
});

t.test('a redelivered notification is processed once', async (t) => {
  const u = user();
  const { body } = wa.notification({ from: u, text: 'once only' });
  t.equal((await deliver('wa', body)).status, 200);
  t.equal((await deliver('wa', body)).status, 200, 'the redelivery is acknowledged too');
  await wa.waitFor(() => wa.inChat(u).length === 1);
  await deliver('wa', wa.notification({ from: u, text: 'next' }).body);
  await wa.waitFor(() => wa.inChat(u).length === 2);
  t.equal(wa.inChat(u).length, 2, 'one answer each, none for the duplicate');
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'wa', outcome: 'duplicate' }) >= 1);
});

t.test('a throttled send is retried after Retry-After, then delivered', async (t) => {
  const u = user();
  wa.fail(WHATSAPP_THROTTLED);
  await deliver('wa', wa.notification({ from: u, text: 'busy?' }).body);
  await wa.waitFor(() => wa.inChat(u).length === 1);
  t.equal(wa.pendingFaults, 0, 'the 429 was served');
  t.ok(await h.metric('troupe_channel_retries_total', { channel: 'wa', reason: 'rate_limited' }) >= 1);
});

t.test('while the Graph API is down replies are retried, and delivered when it is back', async (t) => {
  const u = user();
  wa.fail({ status: 503, body: { error: { message: 'Service temporarily unavailable', code: 2 } } }, 2);
  await deliver('wa', wa.notification({ from: u, text: 'are you there?' }).body);
  await wa.waitFor(() => wa.inChat(u).length === 1);
  t.equal(words(wa.inChat(u)[0]?.text ?? ''), 12);
});

t.test('under pairing a stranger gets a one-time code and reaches no agent', async (t) => {
  const u = user();
  const before = (await h.gw.backend.sessionsList({ tenant: 'acme', user: 'x', scopes: [] })).sessions.length;
  await deliver('wapair', wa.notification({ from: u, text: 'hi' }).body);
  await wa.waitFor(() => wa.inChat(u).length === 1);
  t.match(wa.inChat(u)[0]?.text, /pair/i);
  t.equal((await h.gw.backend.sessionsList({ tenant: 'acme', user: 'x', scopes: [] })).sessions.length, before);
});

t.test('a revoked access token makes that channel unhealthy; the others keep working', async (t) => {
  const health = await h.health();
  t.equal(health.channels.wabad?.status, 'unhealthy');
  t.equal(health.channels.wa?.status, 'up');
  t.notMatch(await h.metrics(), /EAAG-whatsapp|revoked-token/, 'no access token in /metrics');
});
