// `troupe bench channel --harness go`: bench/independent/chanload.go plays the platform (its API, the gateway's
// replies go to; its signed webhooks) in a process of its own. Its API answers the official SDKs as the Node fakes
// do, and short closed-loop legs against a real gateway have every webhook answered once. Needs Go (golang-go).
import { WebClient } from '@slack/web-api';
import { Api, GrammyError } from 'grammy';
import t from 'tap';
import { startGoHarness } from '../../bench/channel/go_harness.js';
import type { LegOptions } from '../../bench/channel/leg.js';
import { benchSecrets } from '../../bench/channel/platform.js';
import { benchChannelEntry, expectedReply, runChannelBench, TEXT } from '../../bench/channel/run.js';
import { BENCH_CONFIG, startGatewayProcess } from '../../bench/compare/processes.js';
import { hasGo } from '../../bench/independent/go_build.js';

const skip = hasGo() ? false : 'needs Go to build bench/independent/chanload.go (apt-get install golang-go)';

const leg = (platform: LegOptions['platform']): LegOptions => ({
  platform, conns: 1, rate: 0, durationMs: 1_000, warmupMs: 0, drainMs: 10_000, text: 'hi', expected: 'hello there',
});

t.test('the Go harness serves the Telegram Bot API to grammY as Telegram does', { skip }, async (t) => {
  const harness = await startGoHarness(leg('telegram'));
  t.teardown(() => harness.stop());
  const { token } = benchSecrets('telegram');
  const api = new Api(token, { apiRoot: harness.apiRoot });
  t.equal((await api.getMe()).is_bot, true);
  const sent = await api.sendMessage('15550100000', 'hello');
  t.equal(sent.text, 'hello');
  t.equal(sent.chat.id, 15_550_100_000);
  await api.editMessageText('15550100000', sent.message_id, 'hello there');
  const same = await api.editMessageText('15550100000', sent.message_id, 'hello there').catch((e: unknown) => e);
  t.ok(same instanceof GrammyError && same.error_code === 400 && /not modified/.test(same.description), 'an unchanged edit is a 400 "not modified"');
  const elsewhere = await api.editMessageText('15550100001', sent.message_id, 'x').catch((e: unknown) => e);
  t.ok(elsewhere instanceof GrammyError && elsewhere.error_code === 400, 'a message is edited only in its own chat');
  const wrong = await new Api('1:WRONG', { apiRoot: harness.apiRoot }).getMe().catch((e: unknown) => e);
  t.ok(wrong instanceof GrammyError && wrong.error_code === 401, 'another token is refused');
});

t.test('the Go harness serves the Slack Web API to @slack/web-api (form bodies) as Slack does', { skip }, async (t) => {
  const harness = await startGoHarness(leg('slack'));
  t.teardown(() => harness.stop());
  const { token } = benchSecrets('slack');
  const client = new WebClient(token, { slackApiUrl: `${harness.apiRoot}/api/`, retryConfig: { retries: 0 } });
  t.equal((await client.auth.test()).user_id, 'UBOT0001');
  const posted = await client.chat.postMessage({ channel: 'D00000000', text: 'hello' });
  t.ok(posted.ok && typeof posted.ts === 'string');
  t.equal((await client.chat.update({ channel: 'D00000000', ts: posted.ts ?? '', text: 'hello there' })).ok, true);
  const missing = await client.chat.update({ channel: 'D00000001', ts: posted.ts ?? '', text: 'x' }).catch((e: unknown) => e);
  t.match(missing, { data: { ok: false, error: 'message_not_found' } });
  const wrong = await new WebClient('xoxb-wrong', { slackApiUrl: `${harness.apiRoot}/api/`, retryConfig: { retries: 0 } }).auth.test().catch((e: unknown) => e);
  t.match(wrong, { data: { ok: false, error: 'invalid_auth' } });
});

t.test('a short go-harness leg on Telegram has every signed webhook answered once', { skip }, async (t) => {
  const r = await runChannelBench({ platform: 'telegram', harness: 'go', conns: 4, rate: 0, durationMs: 1_000, warmupMs: 0, drainMs: 60_000, ws: false });
  const c = r.channel;
  t.ok(c.completed > 0, 'replies came back (with no warm-up, the first webhooks are measured however slow the machine)');
  t.equal(c.rejected, 0, 'the gateway accepted every webhook (its secret header matched)');
  t.equal(c.completed, c.sent, 'every webhook sent in the window was answered');
  t.equal(c.lost, 0);
  t.equal(c.duplicated, 0);
  t.equal(c.latency.count, c.completed, 'one latency per answered webhook');
  t.ok(r.cpu.channel.goMs !== undefined && r.cpu.channel.goMs > 0, 'the Go harness reported its own CPU');
  t.ok(r.cpu.channel.benchMs >= (r.cpu.channel.goMs ?? 0), 'the harness CPU includes the Go process');
});

t.test('one Go harness runs leg after leg against the same gateway, every webhook a new event', { skip }, async (t) => {
  const harness = await startGoHarness({ ...leg('slack'), conns: 2, durationMs: 800, warmupMs: 0, drainMs: 60_000, text: TEXT, expected: await expectedReply() });
  t.teardown(() => harness.stop());
  const gw = await startGatewayProcess({ config: { ...BENCH_CONFIG, channels: [benchChannelEntry('bench', 'slack', harness.apiRoot)] } });
  t.teardown(() => gw.stop());
  for (const round of [1, 2]) {
    const { channel: c } = await harness.run({ pid: gw.pid, webhookUrl: `http://127.0.0.1:${gw.port}/channels/bench` });
    t.ok(c.completed > 0 && c.completed === c.sent, `leg ${round}: every webhook answered (none dropped as a replay)`);
    t.same([c.lost, c.duplicated, c.rejected], [0, 0, 0], `leg ${round}: 0 lost, 0 duplicated, 0 rejected`);
  }
});
