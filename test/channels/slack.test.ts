// Slack end to end: the gateway in-process with the simulated provider,
// @slack/web-api on our side, a fake Web API, Events API requests signed as
// Slack signs them.
import t from 'tap';
import { FakeSlack, SLACK_SIGNING_SECRET, SLACK_TOKEN } from '../fakes/slack_platform.js';
import { startChannelGateway, type ChannelGateway } from './harness.js';

const slack = new FakeSlack();
await slack.start();
const fast = { perChatPerSecond: 100, perBotPerSecond: 1000 };
const base = { platform: 'slack', tenant: 'acme', botToken: SLACK_TOKEN, signingSecret: SLACK_SIGNING_SECRET, apiBase: slack.apiBase, rate: fast };
const h: ChannelGateway = await startChannelGateway([
  { id: 'sl', ...base, access: { mode: 'open' } },
  { id: 'slslow', ...base, agent: 'slow', access: { mode: 'open' } },
  { id: 'sllong', ...base, agent: 'long', access: { mode: 'open' } },
  { id: 'slallow', ...base, access: { mode: 'allowlist', users: ['U0BOSS'] } },
  { id: 'slbad', platform: 'slack', tenant: 'acme', botToken: 'xoxb-9999-revoked-RevokedToken', signingSecret: SLACK_SIGNING_SECRET, apiBase: slack.apiBase },
]);
t.teardown(async () => {
  await h.close();
  await slack.stop();
});

/** Posts `body` to channel `id`, signed as Slack signs it (unless headers are given). */
async function deliver(id: string, body: unknown, headers?: Record<string, string>) {
  const raw = JSON.stringify(body);
  return h.post(id, raw, headers ?? FakeSlack.sign(raw));
}
const words = (s: string) => s.trim().split(/\s+/).filter(Boolean).length;
let n = 0;
const chan = (kind = 'C') => `${kind}${String(++n).padStart(6, '0')}`;

t.test('the url_verification challenge is answered', async (t) => {
  const res = await deliver('sl', { token: 'x', challenge: 'c3f2-challenge', type: 'url_verification' });
  t.equal(res.status, 200);
  t.same(JSON.parse(res.text), { challenge: 'c3f2-challenge' });
});

t.test('a direct message is answered in mrkdwn', async (t) => {
  const c = chan('D');
  t.equal((await deliver('sl', slack.event({ channel: c, im: true, text: 'hi' }))).status, 200);
  await slack.waitFor('the reply', () => slack.inChat(c).length === 1);
  t.equal(words(slack.inChat(c)[0].text), 12);
  t.equal(slack.callsOf('chat.postMessage').find((x) => x.params.channel === c)?.params.mrkdwn, 'true');
});

t.test('in a channel the bot answers a mention once (message and app_mention events) and ignores the rest', async (t) => {
  const c = chan();
  await deliver('sl', slack.event({ channel: c, text: 'lunch?' }));
  const mention = slack.event({ channel: c, mention: true, text: 'what is an actor?' }) as { event: { ts: string } };
  await deliver('sl', mention);
  // Slack sends the same mention again as app_mention, with another event id and the same ts.
  await deliver('sl', slack.event({ channel: c, mention: true, type: 'app_mention', ts: mention.event.ts, text: 'what is an actor?' }));
  await slack.waitFor('the reply', () => slack.inChat(c).length === 1);
  await deliver('sl', slack.event({ channel: c, mention: true, text: 'and now?' }));
  await slack.waitFor('the second reply', () => slack.inChat(c).length === 2);
  t.equal(slack.inChat(c).length, 2, 'one answer per mention');
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'sl', outcome: 'ignored' }) >= 1);
});

t.test('threads are sessions of their own and replies go to the thread', async (t) => {
  const c = chan();
  await deliver('sl', slack.event({ channel: c, mention: true, threadTs: '1700000000.000001', text: 'one' }));
  await deliver('sl', slack.event({ channel: c, mention: true, threadTs: '1700000000.000002', text: 'two' }));
  await slack.waitFor('both replies', () => slack.inChat(c).length === 2);
  t.same(slack.inChat(c).map((m) => m.threadId).sort(), ['1700000000.000001', '1700000000.000002']);
  const sessions = (await h.gw.backend.sessionsList({ tenant: 'acme', user: 'x', scopes: [] })).sessions.map((s) => s.sessionKey);
  t.ok(sessions.includes(`sl:${c}:1700000000.000001`) && sessions.includes(`sl:${c}:1700000000.000002`));
});

t.test('a slow reply streams into one message updated with chat.update', async (t) => {
  const c = chan('D');
  await deliver('slslow', slack.event({ channel: c, im: true, text: 'stream' }));
  await slack.waitFor('the whole reply', () => slack.inChat(c).length === 1 && words(slack.inChat(c)[0].text) === 40);
  t.ok(slack.inChat(c)[0].edits.length >= 1, `updated ${slack.inChat(c)[0].edits.length} times`);
});

t.test('a long reply is split into messages of at most 4000 characters', async (t) => {
  const c = chan('D');
  await deliver('sllong', slack.event({ channel: c, im: true, text: 'a lot' }));
  await slack.waitFor('all pieces', () => slack.inChat(c).reduce((k, m) => k + words(m.text), 0) === 1500);
  t.ok(slack.inChat(c).length >= 3);
  for (const m of slack.inChat(c)) t.ok(m.text.length <= 4000);
});

t.test('a file gets a "not supported yet" answer', async (t) => {
  const c = chan('D');
  await deliver('sl', slack.event({ channel: c, im: true, text: '', file: true }));
  await slack.waitFor('the answer', () => slack.inChat(c).length === 1);
  t.match(slack.inChat(c)[0].text, /not supported yet/);
});

t.test('unsigned, forged, stale and malformed requests are refused and counted', async (t) => {
  const c = chan('D');
  const raw = JSON.stringify(slack.event({ channel: c, im: true }));
  t.equal((await h.post('sl', raw, {})).status, 401, 'no signature');
  t.equal((await h.post('sl', raw, FakeSlack.sign(raw, 'not-the-secret'))).status, 401, 'forged signature');
  t.equal((await h.post('sl', raw, FakeSlack.sign(raw, SLACK_SIGNING_SECRET, Date.now() - 6 * 60_000))).status, 401, 'stale timestamp');
  const tampered = FakeSlack.sign(raw);
  t.equal((await h.post('sl', raw.replace('hello', 'HELLO'), tampered)).status, 401, 'body changed after signing');
  const broken = '{"type": "event_callback", ';
  t.equal((await h.post('sl', broken, FakeSlack.sign(broken))).status, 400, 'malformed JSON');
  t.equal(slack.inChat(c).length, 0, 'nothing was processed');
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'sl', outcome: 'bad_signature' }) >= 3);
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'sl', outcome: 'stale' }) >= 1);
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'sl', outcome: 'malformed' }) >= 1);
});

t.test('a retried delivery (X-Slack-Retry-Num) is processed once', async (t) => {
  const c = chan('D');
  const body = slack.event({ channel: c, im: true, text: 'once' });
  await deliver('sl', body);
  const raw = JSON.stringify(body);
  await h.post('sl', raw, { ...FakeSlack.sign(raw), 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' });
  await slack.waitFor('the reply', () => slack.inChat(c).length === 1);
  await deliver('sl', slack.event({ channel: c, im: true, text: 'next' }));
  await slack.waitFor('the next reply', () => slack.inChat(c).length === 2);
  t.equal(slack.inChat(c).length, 2);
  t.ok(await h.metric('troupe_channel_messages_total', { channel: 'sl', outcome: 'duplicate' }) >= 1);
});

t.test('a 429 with Retry-After is retried, then delivered', async (t) => {
  const c = chan('D');
  slack.fail({ status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': '1' } });
  await deliver('sl', slack.event({ channel: c, im: true, text: 'busy?' }));
  await slack.waitFor('the reply', () => slack.inChat(c).length === 1);
  t.equal(slack.callsOf('chat.postMessage').filter((x) => x.params.channel === c).length, 2);
  t.ok(await h.metric('troupe_channel_retries_total', { channel: 'sl', reason: 'rate_limited' }) >= 1);
});

t.test('while Slack answers 5xx the reply is retried with backoff, and delivered when it is back', async (t) => {
  const c = chan('D');
  slack.down = true;
  try {
    await deliver('sl', slack.event({ channel: c, im: true, text: 'there?' }));
    await slack.waitFor('two failed posts', () => slack.callsOf('chat.postMessage').filter((x) => x.params.channel === c).length >= 2);
  } finally {
    slack.down = false;
  }
  await slack.waitFor('the reply', () => slack.inChat(c).length === 1);
  t.ok(await h.metric('troupe_channel_retries_total', { channel: 'sl', reason: 'server_error' }) >= 2);
});

t.test('under allowlist others are refused politely', async (t) => {
  const c = chan('D');
  await deliver('slallow', slack.event({ channel: c, im: true, user: 'U0STRANGER', text: 'hi' }));
  await slack.waitFor('the refusal', () => slack.inChat(c).length === 1);
  t.match(slack.inChat(c)[0].text, /private/);
  const d = chan('D');
  await deliver('slallow', slack.event({ channel: d, im: true, user: 'U0BOSS', text: 'hi' }));
  await slack.waitFor('the answer', () => slack.inChat(d).length === 1);
  t.equal(words(slack.inChat(d)[0].text), 12);
});

t.test('a revoked token makes its channel unhealthy; the others keep working', async (t) => {
  const health = await h.health();
  t.equal(health.channels.slbad.status, 'unhealthy');
  t.match(health.channels.slbad.reason, /invalid_auth/);
  t.equal(await h.metric('troupe_channel_up', { channel: 'slbad' }), 0);
  const c = chan('D');
  await deliver('sl', slack.event({ channel: c, im: true, text: 'still up?' }));
  await slack.waitFor('the reply', () => slack.inChat(c).length === 1);
  t.notMatch(await h.metrics(), /xoxb-/, 'no token in /metrics');
});
