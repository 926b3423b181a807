// Usage, cost and budgets end to end: runs through HTTP, WebSocket and a chat
// channel are recorded (PostgreSQL, and embedded PGlite, the default), priced,
// counted in /metrics, and charged to budgets shared by two gateways through
// Redis (or in process without it); GET /v1/usage and `troupe usage` report them.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import WebSocket from 'ws';
import { loadConfig, type GatewayConfig } from '../../gateway/config.js';
import { startGateway, type RunningGateway } from '../../gateway/gateway.js';
import { generateApiKey } from '../../security/api_keys.js';
import { signToken } from '../../security/jwt.js';
import { FakeTelegram, TG_SECRET, TG_TOKEN } from '../fakes/telegram_platform.js';
import { postgresUrl, requireService } from '../helpers/services.js';
import { STORE_CALLS } from '../helpers/store_calls.js';
import { REDIS_URL, redisSkipReason } from '../store-redis/redis_available.js';
import { dropSchemaOnTeardown } from '../store/backends.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const pgUrl = await postgresUrl();
const redisSkip = await redisSkipReason();

const suffix = randomBytes(4).toString('hex');
const CAPPED = `capped${suffix}`;
const FREE = `free${suffix}`;

const AGENTS = [
  { id: 'priced', model: 'sim-1', provider: { kind: 'simulated', tokens: 4, latencyMs: 0 } },
  { id: 'unpriced', model: 'mystery-model', provider: { kind: 'simulated', tokens: 3, latencyMs: 0 } },
];

/** A config file (so the strict schema checks pricing and budgets) and the environment. */
function config(env: Record<string, string>, extra: Record<string, unknown>): GatewayConfig {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-usage-'));
  const file = join(dir, 'troupe.json');
  writeFileSync(file, JSON.stringify({ agents: AGENTS, pricing: { 'sim-1': { input: 1, output: 2 } }, ...extra }));
  return loadConfig({ TROUPE_DATA_DIR: dir, TROUPE_PORT: '0', TROUPE_WORKERS: '1', TROUPE_JWT_SECRET: SECRET, ...env }, file);
}

const token = (tenant: string, scopes: string[] = ['chat']) => signToken({ secret: SECRET, tenant, user: 'u1', scopes, ttlSec: 600 });

/** One completion; a retryable 503/504 (a starved machine) is retried, as a client would (3 tries). */
async function complete(gw: RunningGateway, bearer: string, model: string): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'count to four' }] }),
    });
    if ((res.status !== 503 && res.status !== 504) || attempt === 3) return res;
    await res.body?.cancel();
  }
}

async function usage(gw: RunningGateway, bearer: string, query: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${gw.url}/v1/usage?${query}`, { headers: { authorization: `Bearer ${bearer}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const groups = (body: Record<string, unknown>): string[] => (body.data as { group: string }[]).map((r) => r.group).sort();

/** Polls `probe` until it returns a value (bounded: 200 × 25 ms). */
async function eventually<T>(probe: () => Promise<T | undefined>): Promise<T | undefined> {
  for (let i = 0; i < 200; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  return undefined;
}

/** One chat.send over WebSocket: the reply frame, and the run's terminal event when it was accepted. */
async function wsChat(gw: RunningGateway, bearer: string, agent: string): Promise<{ reply: Record<string, unknown>; end?: Record<string, unknown> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/ws?token=${bearer}`);
  const frames: Record<string, unknown>[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Record<string, unknown>));
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  try {
    ws.send(JSON.stringify({ type: 'req', id: 'c', method: 'connect', params: {} }));
    ws.send(JSON.stringify({ type: 'req', id: 's', method: 'chat.send', params: { message: 'hi', agent } }));
    const reply = await eventually(async () => frames.find((f) => f.id === 's'));
    if (reply?.ok !== true) return { reply: reply ?? {} };
    const end = await eventually(async () => frames.find((f) => f.event === 'chat.final' || f.event === 'chat.error'));
    return { reply, ...(end === undefined ? {} : { end }) };
  } finally {
    ws.close();
  }
}

t.test('on PostgreSQL, with budgets shared through Redis by two gateways', { skip: requireService('PostgreSQL', pgUrl) || redisSkip }, async (t) => {
  const schema = `troupe_usage_${suffix}`;
  dropSchemaOnTeardown(t, pgUrl as string, schema);
  // One token a day: the first run passes, its usage uses the budget up.
  const budgets = [{ scope: 'tenant', id: CAPPED, limit: 1, unit: 'tokens', period: 'day' }];
  const a = await startGateway(config({ TROUPE_STORE: 'postgres', DATABASE_URL: pgUrl as string, TROUPE_DB_SCHEMA: schema, REDIS_URL }, { budgets }));
  // A second gateway, no store of its own: it shares the budget counters through Redis.
  const b = await startGateway(config({ TROUPE_STORE: 'none', REDIS_URL }, { budgets }));
  t.teardown(async () => { await b.shutdown(); await a.shutdown(); });

  t.test('a run within budget is served and recorded with its tokens, model, provider and cost', async (t) => {
    const res = await complete(a, await token(CAPPED), 'priced');
    t.equal(res.status, 200);
    const body = (await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
    const got = await usage(a, await token(CAPPED, ['usage:read']), 'group_by=model');
    t.equal(got.status, 200);
    const rows = got.body.data as Record<string, number | string>[];
    t.equal(rows.length, 1);
    const expectedCost = (body.usage.prompt_tokens * 1 + body.usage.completion_tokens * 2) / 1e6;
    t.match(rows[0], { group: 'sim-1', runs: 1, inputTokens: body.usage.prompt_tokens, outputTokens: 4, cachedTokens: 0, unpricedRuns: 0 });
    t.ok(Math.abs(Number(rows[0]?.costUsd) - expectedCost) < 1e-9, `cost ${rows[0]?.costUsd} = ${expectedCost}`);
    t.equal(got.body.tenant, CAPPED);
    await a.store!.flush(30_000);
    const row = { rows: await a.store!.call<unknown, Record<string, unknown>[]>(STORE_CALLS, 'tenantQuery', { tenant: CAPPED, sql: 'SELECT user_id, agent_id, provider, model, outcome, latency_ms FROM usage_events' }) };
    t.match(row.rows, [{ user_id: 'u1', agent_id: 'priced', provider: 'simulated', model: 'sim-1', outcome: 'ok' }]);
    t.ok(Number(row.rows[0]?.latency_ms) >= 0);
  });

  t.test('once the budget is used up, both gateways refuse with BUDGET_EXCEEDED and the reset time', async (t) => {
    const refused = await eventually(async () => {
      const res = await complete(b, await token(CAPPED), 'priced');
      if (res.status === 200) return undefined;
      return res;
    });
    t.ok(refused, 'the second gateway sees the spend through Redis');
    t.equal(refused?.status, 429);
    const retryAfter = Number(refused?.headers.get('retry-after'));
    const now = new Date();
    const nextMidnight = Math.ceil((Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) - Date.now()) / 1000);
    t.ok(retryAfter > 0 && retryAfter <= nextMidnight + 1, `Retry-After ${retryAfter}s is until the next UTC midnight`);
    const err = ((await refused?.json()) as { error: Record<string, unknown> }).error;
    t.match(err, { code: 'BUDGET_EXCEEDED', type: 'insufficient_quota', reason: 'tenant_budget', message: /resets at \d{4}-\d\d-\d\dT00:00:00\.000Z/ });

    const ws = await wsChat(a, await token(CAPPED), 'priced');
    t.match(ws.reply, { ok: false, error: { code: 'BUDGET_EXCEEDED', retryable: false, retryAfterMs: Number } }, 'WebSocket chat.send: the same code');
    t.equal((await complete(a, await token(FREE), 'priced')).status, 200, 'another tenant is not affected');
  });

  t.test('a WebSocket run is recorded too; a model without a price costs 0 and is flagged', async (t) => {
    const ws = await wsChat(a, await token(FREE), 'unpriced');
    t.match(ws.end, { event: 'chat.final', payload: { usage: { outputTokens: 3 }, model: 'mystery-model', provider: 'simulated' } });
    const got = await usage(a, await token(FREE, ['usage:read']), 'group_by=model');
    const row = (got.body.data as Record<string, unknown>[]).find((r) => r.group === 'mystery-model');
    t.match(row, { runs: 1, costUsd: 0, unpricedRuns: 1, outputTokens: 3 });
    const scrape = await (await fetch(`${a.url}/metrics`)).text();
    t.match(scrape, 'troupe_usage_unpriced_runs_total{model="mystery-model"} 1');
    t.match(scrape, new RegExp(`troupe_usage_tokens_total\\{tenant="${FREE}",model="sim-1",kind="output"\\} 4`));
    t.match(scrape, new RegExp(`troupe_usage_cost_usd_total\\{tenant="${CAPPED}",model="sim-1"\\} [0-9.e-]+`));
    t.match(await (await fetch(`${b.url}/metrics`)).text(), /troupe_budget_exceeded_total\{scope="tenant"\} [1-9]/, 'the refusing gateway counts it');
  });

  t.test('a tenant reads only its own usage; platform reads every tenant, or the one it names', async (t) => {
    t.match(await usage(a, await token(FREE, ['usage:read']), `tenant=${CAPPED}`), { status: 403, body: { error: { code: 'FORBIDDEN', reason: 'other_tenant' } } });
    t.match(await usage(a, await token(FREE, ['chat']), 'group_by=model'), { status: 403, body: { error: { reason: 'missing_scope' } } });
    t.same(groups((await usage(a, await token(FREE, ['usage:read']), 'group_by=tenant')).body), [FREE]);
    t.same(groups((await usage(a, await token(FREE, ['admin']), 'group_by=tenant')).body), [FREE], 'admin is its own tenant\'s');
    const all = await usage(a, await token('ops', ['platform']), 'group_by=tenant');
    t.equal(all.status, 200);
    t.ok(groups(all.body).includes(FREE) && groups(all.body).includes(CAPPED), 'platform sees both tenants');
    t.same(groups((await usage(a, await token('ops', ['platform']), `group_by=agent&tenant=${FREE}`)).body), ['priced', 'unpriced']);
    t.same(groups((await usage(a, await token(FREE, ['usage:read']), 'group_by=day')).body), [new Date().toISOString().slice(0, 10)]);
    t.same(groups((await usage(a, await token(FREE, ['usage:read']), 'group_by=key')).body), ['-'], 'JWT callers have no key');
  });

  t.test('troupe usage prints the same report from the store', async (t) => {
    // On the gateway's store worker, the one owner of its database.
    const run = (args: string[]) => a.store!.call<unknown, { code: number; out: string[]; err: string[] }>(STORE_CALLS, 'command', { args, config: a.config });
    await a.store!.flush(30_000);
    const report = await run(['usage', '--group-by', 'agent', '--tenant', FREE]);
    const { out } = report;
    t.equal(report.code, 0, report.err.join('\n'));
    t.match(out[0], new RegExp(`by agent \\(tenant ${FREE}\\)`));
    t.match(out[1], /^AGENT +RUNS +INPUT +OUTPUT +CACHED +COST USD/);
    t.ok(out.some((l) => /^unpriced +1 .* 0\.000000 +1 unpriced$/.test(l)), out.join('\n'));
    const bad = await run(['usage', '--from', '2026-12-05', '--to', '2026-12-01']);
    t.equal(bad.code, 2, 'a bad range is a usage error');
    t.match(bad.err.join('\n'), /from must be before to \(--from\)/);
  });

  t.test('bad ranges are a 400 naming the field', async (t) => {
    const tok = await token(FREE, ['usage:read']);
    t.match(await usage(a, tok, 'from=yesterday'), { status: 400, body: { error: { code: 'INVALID_REQUEST', param: 'from' } } });
    t.match(await usage(a, tok, 'from=2026-12-05&to=2026-12-01'), { status: 400, body: { error: { param: 'from', message: /before/ } } });
    t.match(await usage(a, tok, 'from=2020-01-01&to=2026-01-01'), { status: 400, body: { error: { param: 'to', message: /366 days/ } } });
    t.match(await usage(a, tok, 'group_by=planet'), { status: 400, body: { error: { param: 'group_by' } } });
    t.match(await usage(a, tok, 'to=2026-13-45'), { status: 400, body: { error: { param: 'to' } } });
    t.match(await usage(a, tok, 'from=2026-02-31'), { status: 400, body: { error: { param: 'from', message: /not a valid date/ } } });
  });

  t.test('without a store, usage is counted but not kept: GET /v1/usage is NOT_FOUND', async (t) => {
    t.match(await usage(b, await token(FREE, ['usage:read']), ''), { status: 404, body: { error: { reason: 'no_usage_store' } } });
  });
});

t.test('on embedded PGlite, in-process budgets per API key, and a chat channel', async (t) => {
  const key = generateApiKey();
  const tg = new FakeTelegram();
  await tg.start();
  const channels = [{
    id: 'tg', platform: 'telegram', tenant: CAPPED, token: TG_TOKEN, webhookSecret: TG_SECRET, apiBase: tg.url, agent: 'priced',
    rate: { perChatPerSecond: 100, perBotPerSecond: 1000 }, access: { mode: 'open' },
  }];
  // Every API key gets one token a month; the channel's tenant gets 1 token a day.
  const budgets = [
    { scope: 'key', limit: 1, unit: 'tokens', period: 'month' },
    { scope: 'tenant', id: CAPPED, limit: 1, unit: 'tokens', period: 'day' },
  ];
  const gw = await startGateway(config({ TROUPE_STORE: 'pglite' }, { budgets, channels }), { channelEditIntervalMs: 50 });
  t.teardown(async () => { await gw.shutdown(); await tg.stop(); });
  await gw.store!.call(STORE_CALLS, 'createApiKey', {
    tenant: FREE, id: key.id, name: 'ci', keyHash: key.hash, scopes: ['chat'], expiresAt: Date.now() + 3_600_000,
  });

  t.test('an API key over its budget is refused; the same tenant by JWT is not', async (t) => {
    t.equal((await complete(gw, key.key, 'priced')).status, 200);
    const refused = await eventually(async () => {
      const res = await complete(gw, key.key, 'priced');
      return res.status === 200 ? undefined : res;
    });
    t.equal(refused?.status, 429);
    const firstOfNextMonth = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 1)).toISOString();
    t.match(((await refused?.json()) as { error: Record<string, unknown> }).error, { code: 'BUDGET_EXCEEDED', reason: 'key_budget', message: new RegExp(`resets at ${firstOfNextMonth.replace(/\./g, '\\.')}`) });
    t.equal((await complete(gw, await token(FREE), 'priced')).status, 200);
    const byKey = await usage(gw, await token(FREE, ['usage:read']), 'group_by=key');
    t.same(groups(byKey.body), ['-', key.id], 'usage is kept per API key');
  });

  t.test('a channel run is recorded and charged; over budget, the channel says so', async (t) => {
    const chat = 5151;
    t.equal((await fetch(`${gw.url}/channels/tg`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TG_SECRET },
      body: JSON.stringify(tg.update({ chatId: chat, userId: chat, text: 'hello' })),
    })).status, 200);
    await tg.waitFor('the answer', () => tg.inChat(chat).length === 1 && tg.inChat(chat)[0]?.text.split(/\s+/).length === 4);
    const recorded = await eventually(async () => {
      const got = await usage(gw, await token(CAPPED, ['usage:read']), 'group_by=agent');
      return (got.body.data as unknown[]).length > 0 ? got : undefined;
    });
    t.match(recorded?.body.data, [{ group: 'priced', runs: 1, outputTokens: 4 }]);
    const refused = await eventually(async () => {
      await fetch(`${gw.url}/channels/tg`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TG_SECRET },
        body: JSON.stringify(tg.update({ chatId: chat, userId: chat, text: 'again' })),
      });
      await tg.waitFor('a reply', () => tg.inChat(chat).length >= 2);
      return tg.inChat(chat).find((m) => m.text.includes('BUDGET_EXCEEDED'));
    });
    t.ok(refused, 'the channel answered with BUDGET_EXCEEDED');
    t.match(refused?.text, /resets at \d{4}-\d\d-\d\dT/, 'and told the user when the budget resets');
  });
});
