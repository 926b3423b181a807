// Pairing end to end on the embedded store: an unknown user's DM gets a code
// and reaches no agent, `troupe channels pair` approves it, the next DM is
// answered; audit rows for the messages, the pairing and a failed delivery;
// `troupe channels add|remove|list` on a config file.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runChannelsCommand, type ChannelsContext } from '../../gateway/channels_cli.js';
import { loadConfig } from '../../gateway/config.js';
import { FakeTelegram, TG_SECRET, TG_TOKEN } from '../fakes/telegram_platform.js';
import { SIMULATED_AGENTS, startChannelGateway } from './harness.js';
import { STORE_CALLS } from '../helpers/store_calls.js';

const tg = new FakeTelegram();
await tg.start();
const h = await startChannelGateway([
  { id: 'tgpair', platform: 'telegram', tenant: 'acme', token: TG_TOKEN, webhookSecret: TG_SECRET, apiBase: tg.url, rate: { perChatPerSecond: 100 } },
], { env: { TROUPE_STORE: 'pglite' } });
t.teardown(async () => {
  await h.close();
  await tg.stop();
});
const SIGNED = { 'x-telegram-bot-api-secret-token': TG_SECRET };
const store = h.gw.store;
if (store === undefined) throw new Error('the pairing suite needs the embedded store');

/** `troupe channels <args>`: against the gateway's store (on its store worker), or, given a context, in this process. */
async function cli(args: string[], local?: Partial<ChannelsContext>): Promise<{ code: number; out: string[] }> {
  if (local === undefined) {
    const r = await store!.call<unknown, { code: number; out: string[]; err: string[] }>(STORE_CALLS, 'command', { channels: true, args, config: h.gw.config });
    return { code: r.code, out: [...r.out, ...r.err] };
  }
  const out: string[] = [];
  const code = await runChannelsCommand(args, { config: h.gw.config, out: (l) => out.push(l), err: (l) => out.push(l), ...local });
  return { code, out };
}

async function auditActions(): Promise<string[]> {
  await store!.flush(30_000);
  const rows = await store!.call<unknown, { action: string; outcome: string }[]>(STORE_CALLS, 'tenantQuery', { tenant: 'acme', sql: 'SELECT action, outcome FROM audit_log ORDER BY seq' });
  return rows.map((r) => `${r.action}:${r.outcome}`);
}

t.test('an unknown user gets a one-time code, an approved one gets answers', async (t) => {
  const c = 31_337;
  await h.post('tgpair', tg.update({ chatId: c, userId: c, text: 'hello?' }), SIGNED);
  await tg.waitFor('the code', () => tg.inChat(c).length === 1);
  const code = /code: ([A-Z0-9]{8})/.exec(tg.inChat(c)[0].text)?.[1];
  t.ok(code, `the bot sent a code: ${tg.inChat(c)[0].text}`);
  const sessions = (await h.gw.backend.sessionsList({ tenant: 'acme', user: 'x', scopes: [] })).sessions;
  t.equal(sessions.length, 0, 'no agent was reached');
  await h.post('tgpair', tg.update({ chatId: c, userId: c, text: 'please?' }), SIGNED);
  await tg.waitFor('the code again', () => tg.inChat(c).length === 2);
  t.match(tg.inChat(c)[1].text, code!, 'the same code while it is pending');

  t.equal((await cli(['pair', 'tgpair', 'WRONGCODE'])).code, 2, 'a wrong code is refused');
  const ok = await cli(['pair', 'tgpair', code!]);
  t.equal(ok.code, 0, ok.out.join('\n'));
  t.match(ok.out.join('\n'), `approved user ${c}`);
  t.equal((await cli(['pair', 'tgpair', code!])).code, 2, 'a code works once');

  await h.post('tgpair', tg.update({ chatId: c, userId: c, text: 'now?' }), SIGNED);
  await tg.waitFor('the answer', () => tg.inChat(c).length === 3);
  t.equal(tg.inChat(c)[2].text.split(' ').length, 12, 'the agent answered');
  const listed = await cli(['list']);
  t.match(listed.out.join('\n'), `tgpair: user ${c} (ada) approved`);
  const actions = await auditActions();
  t.ok(actions.includes('channel.pairing.request:denied'), 'the request was audited');
  t.ok(actions.includes('channel.pairing.approve:success'), 'the approval was audited');
  t.ok(actions.includes('channel.message:success'), 'the answered message was audited');
});

t.test('a group message from an unpaired user gets no code and reaches no agent', async (t) => {
  const c = -777;
  await h.post('tgpair', tg.update({ chatId: c, userId: 999, group: true, mention: true, text: 'hi bot' }), SIGNED);
  await h.post('tgpair', tg.update({ chatId: c, userId: 31_337, group: true, mention: true, text: 'hi bot' }), SIGNED);
  await tg.waitFor('the paired user is answered', () => tg.inChat(c).length === 1);
  t.equal(tg.inChat(c).length, 1, 'only the paired user');
});

t.test('a delivery that fails for good leaves an audit row', async (t) => {
  const c = 31_337;
  tg.fail({ status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: chat not found' } });
  const before = tg.callsOf('sendMessage').length;
  await h.post('tgpair', tg.update({ chatId: c, userId: c, text: 'lost?' }), SIGNED);
  await tg.waitFor('the refused send', () => tg.callsOf('sendMessage').length > before);
  let actions: string[] = [];
  for (let i = 0; i < 100 && !actions.includes('channel.delivery:failure'); i++) {
    await new Promise((r) => setTimeout(r, 20));
    actions = await auditActions();
  }
  t.ok(actions.includes('channel.delivery:failure'));
});

t.test('channels add and remove edit the config file, checked first', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-chan-cli-'));
  const file = join(dir, 'troupe.json');
  writeFileSync(file, JSON.stringify({ agents: SIMULATED_AGENTS }));
  const ctx = { config: loadConfig({ TROUPE_DATA_DIR: dir, TROUPE_STORE: 'none' }, file), configFile: file };
  const added = await cli(['add', '--id', 'support', '--platform', 'telegram', '--tenant', 'acme', '--mode', 'polling', '--set', 'token=secret:TG_TOKEN'], ctx);
  t.equal(added.code, 0, added.out.join('\n'));
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { channels: Record<string, unknown>[] };
  t.same(doc.channels, [{ id: 'support', platform: 'telegram', tenant: 'acme', mode: 'polling', token: 'secret:TG_TOKEN' }]);
  t.equal(loadConfig({ TROUPE_DATA_DIR: dir, TROUPE_STORE: 'none' }, file).channels[0].id, 'support', 'the gateway accepts the file');
  t.equal((await cli(['add', '--id', 'hook', '--platform', 'telegram', '--tenant', 'acme', '--set', 'token=x'], ctx)).code, 2, 'a webhook without its secret is refused');
  t.equal((await cli(['add', '--id', 'x', '--platform', 'icq', '--tenant', 'acme'], ctx)).code, 2, 'an unknown platform is refused');
  t.equal(JSON.parse(readFileSync(file, 'utf8')).channels.length, 1, 'refused changes were not written');
  t.equal((await cli(['remove', 'support'], ctx)).code, 0);
  t.same(JSON.parse(readFileSync(file, 'utf8')).channels, []);
  t.equal((await cli(['remove', 'support'], ctx)).code, 2);
});
