// OpenTelemetry traces through the whole gateway: the real OTel SDK and OTLP
// exporter on every thread, a fake OTLP/HTTP collector on 127.0.0.1, the
// OpenAI SDK against the fake upstream, real WebSocket and HTTP clients, and the
// channels' own SDKs (grammY, Slack's WebClient, Feishu's node-sdk) against the
// fake platforms.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import t, { type Test } from 'tap';
import { loadConfig } from '../../gateway/config.js';
import { startGateway, type RunningGateway } from '../../gateway/gateway.js';
import { checkToolsConfig } from '../../gateway/tools_config.js';
import { signToken } from '../../security/jwt.js';
import { header, postWebhook } from '../fakes/chat_platform.js';
import { FeishuFake } from '../fakes/feishu_platform.js';
import { OpenAIUpstream } from '../fakes/openai_upstream.js';
import { OtlpCollector, type CollectedSpan } from '../fakes/otlp_collector.js';
import type { ScriptedReply } from '../fakes/script.js';
import { FakeSlack, SLACK_SIGNING_SECRET, SLACK_TOKEN } from '../fakes/slack_platform.js';
import { FakeTelegram, TG_SECRET, TG_TOKEN } from '../fakes/telegram_platform.js';
import { WhatsAppFake } from '../fakes/whatsapp_platform.js';
import { wsTurn } from './ws_turn.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${CLIENT_SPAN}-01`;
const SERVER = 2;
const CLIENT = 3;

/** One tool call (datetime), then the answer. */
const toolThenAnswer = (): ScriptedReply[] => [
  { text: 'checking ', toolCalls: [{ id: 'd', name: 'datetime', arguments: {} }], usage: { input: 11, output: 3 } },
  { text: 'it is late', usage: { input: 20, output: 4 } },
];

async function gateway(t: Test, env: Record<string, string>, fake: OpenAIUpstream, store = 'none', tools?: unknown): Promise<RunningGateway> {
  const gw = await startGateway({
    ...loadConfig({
      TROUPE_DATA_DIR: mkdtempSync(join(tmpdir(), 'troupe-trace-')), TROUPE_PORT: '0', TROUPE_WORKERS: '1', TROUPE_JWT_SECRET: SECRET,
      ...(store === 'none' ? { TROUPE_STORE: 'none' } : {}), OTEL_BSP_SCHEDULE_DELAY: '20', ...env,
    }),
    agents: [{ id: 'a', model: 'fake-model', provider: { kind: 'openai', apiKey: 'sk-test', baseURL: `${fake.url}/v1` } }],
    ...(tools === undefined ? {} : { tools: checkToolsConfig(tools, process.cwd()) }),
  });
  t.teardown(() => gw.shutdown());
  return gw;
}

async function setup(
  t: Test, replies: ScriptedReply[], store = 'none', protocol = 'http/json', tools?: unknown,
): Promise<{ fake: OpenAIUpstream; collector: OtlpCollector; gw: RunningGateway }> {
  const fake = new OpenAIUpstream();
  fake.script(...replies);
  await fake.start();
  t.teardown(() => fake.close());
  const collector = new OtlpCollector();
  const endpoint = await collector.start();
  t.teardown(() => collector.close());
  const gw = await gateway(t, { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_SERVICE_NAME: 'troupe-test' }, fake, store, tools);
  return { fake, collector, gw };
}

const token = (): Promise<string> => signToken({ secret: SECRET, tenant: 'acme', user: 'u', scopes: ['chat'], ttlSec: 600 });

async function complete(gw: RunningGateway, headers: Record<string, string>): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await token()}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'a', messages: [{ role: 'user', content: 'what time is it?' }] }),
  });
}

const named = (spans: CollectedSpan[], name: string): CollectedSpan[] => spans.filter((s) => s.name === name);
const one = (t: Test, spans: CollectedSpan[], name: string): CollectedSpan => {
  const found = named(spans, name);
  t.equal(found.length, 1, `one ${name} span`);
  return found[0] as CollectedSpan;
};

for (const protocol of ['http/json', 'http/protobuf']) t.test(`an HTTP completion with a traceparent is one trace: front door, the agent's run on the worker, model and tool calls, store writes (${protocol})`, async (t) => {
  const { fake, collector, gw } = await setup(t, toolThenAnswer(), 'pglite', protocol);
  const res = await complete(gw, { traceparent: TRACEPARENT, 'x-troupe-session-key': 'traced' });
  t.equal(res.status, 200, await res.clone().text());
  const spans = await collector.until((s) => named(s, 'chat fake-model').length === 2 && named(s, 'store.append_message').length === 1
    && named(s, 'POST /v1/chat/completions').length === 1 && named(s, 'invoke_agent a').length === 1 && named(s, 'store.audit').length === 1);
  t.same([...new Set(spans.map((s) => s.traceId))], [TRACE_ID], 'every span is in the client\'s trace');

  const root = one(t, spans, 'POST /v1/chat/completions');
  t.equal(root.parentSpanId, CLIENT_SPAN, 'the root\'s parent is the client\'s span');
  t.equal(root.kind, SERVER);
  t.equal(root.resource['troupe.thread'], 'main');
  t.equal(root.resource['service.name'], 'troupe-test');
  t.equal(spans.filter((s) => s.parentSpanId === CLIENT_SPAN).length, 1, 'only the root hangs off the client');

  t.same(named(spans, 'session.send'), [], 'the session\'s part of the turn is synchronous and has no span of its own');
  const agent = one(t, spans, 'invoke_agent a');
  t.equal(agent.parentSpanId, root.spanId, 'main → worker: the agent run\'s parent is the front door span');
  t.match(agent.resource['troupe.thread'], /^worker-\d+$/, 'the session and its agent run on a worker, and the span exports from there');
  t.match(agent.attributes, {
    'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'a', 'gen_ai.usage.input_tokens': 31, 'gen_ai.usage.output_tokens': 7,
    'troupe.tenant': 'acme', 'troupe.session_key': 'traced',
  });

  const calls = named(spans, 'chat fake-model');
  for (const call of calls) {
    t.equal(call.parentSpanId, agent.spanId, 'a model call is the agent\'s child');
    t.equal(call.kind, CLIENT);
    t.match(call.attributes, { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'fake-model' });
  }
  t.same(calls.map((c) => [c.attributes['gen_ai.usage.input_tokens'], c.attributes['gen_ai.usage.output_tokens']]).sort(), [[11, 3], [20, 4]], 'token counts per call');
  const sent = fake.requests.filter((r) => r.url.endsWith('/chat/completions')).map((r) => r.headers.traceparent);
  t.same(sent.sort(), calls.map((c) => `00-${TRACE_ID}-${c.spanId}-01`).sort(), 'each upstream request carried its span as traceparent');

  const tool = one(t, spans, 'execute_tool datetime');
  t.equal(tool.parentSpanId, agent.spanId);
  t.match(tool.attributes, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'datetime', 'gen_ai.tool.call.id': 'd' });

  // The turn's store span: the user message's history write, recorded by the session as it hands the message
  // to the store worker. The answer's write and the usage row go untraced.
  const write = one(t, spans, 'store.append_message');
  t.equal(write.resource['troupe.thread'], agent.resource['troupe.thread'], 'the session records the hand-off on its own worker');
  t.equal(write.parentSpanId, root.spanId, 'main → worker: the user message\'s write, handed over by the session, is the front door span\'s child');
  t.match(write.attributes, { 'troupe.tenant': 'acme' });
  const audit = one(t, spans, 'store.audit');
  t.equal(audit.parentSpanId, tool.spanId, 'the tool call\'s audit row is the tool span\'s child');
  const storeThread = audit.resource['troupe.thread'];
  t.match(storeThread, /^worker-\d+$/);
  t.not(storeThread, agent.resource['troupe.thread'], 'the audit row is taken on the store worker, a thread of its own, not the session\'s worker');
  t.same(named(spans, 'store.usage'), [], 'the usage row has no span');

  // Every thread's exports are counted, the store worker's too: the counter reaches what the collector took.
  // (A span is counted once its export is answered, so the count may trail what the collector holds for a moment.)
  let received = 0;
  let exported = -1;
  for (let i = 0; i < 200; i++) {
    received = collector.spans.length;
    exported = await spanCounter(gw, 'troupe_trace_spans_exported_total');
    if (exported === received) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  t.equal(exported, received, 'troupe_trace_spans_exported_total counts every thread\'s spans, the store worker\'s included');
});

/** An HTTP server on 127.0.0.1 that records each request's traceparent and hands it to `handle`. */
async function recordingServer(t: Test, handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; traceparents: (string | undefined)[] }> {
  const traceparents: (string | undefined)[] = [];
  const server = createHttpServer((req, res) => {
    traceparents.push(header(req.headers, 'traceparent') || undefined);
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, traceparents };
}

/** An MCP server over streamable HTTP (the SDK's own, stateless) with one tool, `stamp`. */
function mcpHandler(): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const server = new McpServer({ name: 'rec', version: '1.0.0' });
      server.registerTool('stamp', { description: 'Stamps.' }, () => ({ content: [{ type: 'text', text: 'stamped' }] }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      void server.connect(transport).then(() => transport.handleRequest(req, res, JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown));
    });
  };
}

t.test('a tool call\'s outbound requests carry its execute_tool span as traceparent: web_fetch, and an MCP server over HTTP', async (t) => {
  const page = await recordingServer(t, (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('Open 9 to 5.'));
  const mcp = await recordingServer(t, mcpHandler());
  const { collector, gw } = await setup(t, [
    { toolCalls: [{ id: 'w', name: 'web_fetch', arguments: { url: `${page.url}/hours` } }] },
    { toolCalls: [{ id: 'm', name: 'mcp_rec_stamp', arguments: {} }] },
    { text: 'done' },
  ], 'none', 'http/json', {
    builtins: { webFetch: { allowHosts: ['127.0.0.1'] } },
    mcpServers: { rec: { url: `${mcp.url}/mcp` } },
    mcp: { healthIntervalMs: 0, http: { allowHosts: ['127.0.0.1'] } },
  });
  const res = await complete(gw, { traceparent: TRACEPARENT });
  t.equal(res.status, 200, await res.clone().text());
  const spans = await collector.until((s) => named(s, 'execute_tool web_fetch').length === 1 && named(s, 'execute_tool mcp_rec_stamp').length === 1);
  const fetchSpan = one(t, spans, 'execute_tool web_fetch');
  const mcpSpan = one(t, spans, 'execute_tool mcp_rec_stamp');
  t.same(page.traceparents, [`00-${TRACE_ID}-${fetchSpan.spanId}-01`], 'web_fetch\'s request carried its tool span');
  t.ok(mcp.traceparents.length >= 2, 'the MCP client connected, then called the tool');
  t.equal(mcp.traceparents.at(-1), `00-${TRACE_ID}-${mcpSpan.spanId}-01`, 'the MCP tool call\'s request carried its tool span');
});

t.test('a WebSocket chat.send with a traceparent joins the client\'s trace', async (t) => {
  const { collector, gw } = await setup(t, [{ text: 'hello' }]);
  const { events } = await wsTurn(gw.port, await token(), { message: 'hi', sessionKey: 'ws-traced', traceparent: TRACEPARENT });
  t.equal(events.at(-1)?.event, 'chat.final');
  const spans = await collector.until((s) => named(s, 'chat.send').length === 1 && named(s, 'chat fake-model').length === 1);
  const root = one(t, spans, 'chat.send');
  t.equal(root.traceId, TRACE_ID);
  t.equal(root.parentSpanId, CLIENT_SPAN);
  t.match(root.attributes, { 'troupe.run_id': /\S/, 'troupe.session_key': 'ws-traced' }, 'the front-door span names its run, however fast the turn ended');
  t.equal(one(t, spans, 'invoke_agent a').parentSpanId, root.spanId);
  t.equal(one(t, spans, 'chat fake-model').traceId, TRACE_ID);
});

t.test('a malformed traceparent is ignored: the turn succeeds in a new trace', async (t) => {
  const { collector, gw } = await setup(t, [{ text: 'one' }, { text: 'two' }]);
  const res = await complete(gw, { traceparent: '00-not-a-trace-01' });
  t.equal(res.status, 200);
  const { events } = await wsTurn(gw.port, await token(), { message: 'hi', traceparent: `00-${'0'.repeat(32)}-${CLIENT_SPAN}-01` });
  t.equal(events.at(-1)?.event, 'chat.final', 'an all-zero trace id is no error either');
  const spans = await collector.until((s) => named(s, 'POST /v1/chat/completions').length === 1 && named(s, 'chat.send').length === 1);
  for (const name of ['POST /v1/chat/completions', 'chat.send']) {
    const root = one(t, spans, name);
    t.equal(root.parentSpanId, '', `${name}: a new trace, with no parent`);
    t.match(root.traceId, /^[0-9a-f]{32}$/);
    t.not(root.traceId, '0'.repeat(32));
  }
});

t.test('http/protobuf: spans reach the collector as protobuf', async (t) => {
  const fake = new OpenAIUpstream();
  fake.script({ text: 'hello' });
  await fake.start();
  t.teardown(() => fake.close());
  const collector = new OtlpCollector();
  const endpoint = await collector.start();
  t.teardown(() => collector.close());
  const gw = await gateway(t, { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }, fake);
  t.equal((await complete(gw, { traceparent: TRACEPARENT })).status, 200);
  const traceIdBytes = Buffer.from(TRACE_ID, 'hex');
  for (let i = 0; i < 300 && !collector.protobufBodies.some((b) => b.includes(traceIdBytes)); i++) await new Promise((r) => setTimeout(r, 20));
  t.ok(collector.protobufBodies.some((b) => b.includes(traceIdBytes)), 'a protobuf export carries the trace id');
  t.ok(collector.contentTypes.every((c) => c === 'application/x-protobuf'));
});

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A counter's value on /metrics (series is the name with its labels), or -1 when it is not there. */
async function spanCounter(gw: RunningGateway, series: string): Promise<number> {
  const scrape = await (await fetch(`${gw.url}/metrics`)).text();
  const line = scrape.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? -1 : Number(line.slice(series.length + 1));
}

const droppedSpans = (gw: RunningGateway, reason: string): Promise<number> => spanCounter(gw, `troupe_trace_spans_dropped_total{reason="${reason}"}`);

t.test('an unreachable collector never fails a request: spans are dropped and counted', async (t) => {
  const fake = new OpenAIUpstream();
  const turns = 12;
  fake.script(...Array.from({ length: turns }, () => ({ text: 'fine' })));
  await fake.start();
  t.teardown(() => fake.close());
  const gw = await gateway(t, {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await closedPort()}`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_TIMEOUT: '500', OTEL_BSP_MAX_QUEUE_SIZE: '4', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2',
  }, fake);
  const statuses = await Promise.all(Array.from({ length: turns }, () => complete(gw, { traceparent: TRACEPARENT }).then((r) => r.status)));
  t.same(statuses, Array.from({ length: turns }, () => 200), 'every request succeeds');
  let failed = 0;
  let full = 0;
  for (let i = 0; i < 200 && (failed <= 0 || full <= 0); i++) {
    failed = await droppedSpans(gw, 'export_failed');
    full = await droppedSpans(gw, 'queue_full');
    if (failed <= 0 || full <= 0) await new Promise((r) => setTimeout(r, 50));
  }
  t.ok(failed > 0, `export_failed counted (${failed})`);
  t.ok(full > 0, `queue_full counted (${full})`);
});

/** A gateway with one open channel (the simulated agent) that exports every span to a fresh collector. */
async function channelGateway(t: Test, channel: Record<string, unknown>): Promise<{ gw: RunningGateway; collector: OtlpCollector }> {
  const collector = new OtlpCollector();
  const endpoint = await collector.start();
  t.teardown(() => collector.close());
  const dir = mkdtempSync(join(tmpdir(), 'troupe-trace-chan-'));
  const file = join(dir, 'troupe.json');
  writeFileSync(file, JSON.stringify({
    agents: [{ id: 'sim', model: 'simulated-1', provider: { kind: 'simulated', tokens: 6, latencyMs: 0 } }],
    channels: [{ tenant: 'acme', agent: 'sim', access: { mode: 'open' }, rate: { perChatPerSecond: 100, perBotPerSecond: 1000 }, ...channel }],
  }));
  const gw = await startGateway(loadConfig({
    TROUPE_DATA_DIR: dir, TROUPE_PORT: '0', TROUPE_WORKERS: '1', TROUPE_JWT_SECRET: SECRET, TROUPE_STORE: 'none',
    OTEL_BSP_SCHEDULE_DELAY: '20', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  }, file));
  t.teardown(() => gw.shutdown());
  return { gw, collector };
}

/**
 * The turn is one trace as the collector sees it (the channel.send span under
 * the front door's), and the platform call that posted the reply carried that
 * channel.send span as its traceparent.
 */
async function replyCarriesTrace(t: Test, collector: OtlpCollector, call: { headers: IncomingHttpHeaders } | undefined): Promise<void> {
  const spans = await collector.until((s) => named(s, 'channel.send').length === 1 && named(s, 'channel message').length === 1);
  const send = one(t, spans, 'channel.send');
  const root = one(t, spans, 'channel message');
  t.equal(send.traceId, root.traceId, 'the send is in the message\'s trace');
  t.equal(send.parentSpanId, root.spanId, 'under the front door span');
  t.ok(call, 'the platform was called');
  t.equal(header(call?.headers ?? {}, 'traceparent'), `00-${root.traceId}-${send.spanId}-01`, 'the platform call carried the channel.send span of the turn\'s trace');
}

t.test('a channel message is one trace, and the reply to the platform carries its channel.send span as traceparent', async (t) => {
  const wa = new WhatsAppFake({ accessToken: 'wa-token', appSecret: 'wa-secret', phoneNumberId: '1065550000' });
  await wa.start();
  t.teardown(() => wa.stop());
  const { gw, collector } = await channelGateway(t, {
    id: 'wa', platform: 'whatsapp', apiBase: wa.apiBase, accessToken: 'wa-token', appSecret: 'wa-secret', verifyToken: 'v', phoneNumberId: '1065550000',
  });

  const { body } = wa.notification({ from: '15550001', text: 'hello' });
  t.equal((await wa.deliver(`${gw.url}/channels/wa`, body)).status, 200);
  await wa.waitFor('the reply', () => wa.inChat('15550001').length === 1);
  await replyCarriesTrace(t, collector, wa.requests.find((r) => r.method === 'POST' && r.path.endsWith('/messages')));
});

t.test('a Telegram turn\'s sendMessage (grammY) carries the turn\'s trace; getMe at start-up, outside a span, carries none', async (t) => {
  const tg = new FakeTelegram();
  await tg.start();
  t.teardown(() => tg.stop());
  const { gw, collector } = await channelGateway(t, { id: 'tg', platform: 'telegram', token: TG_TOKEN, webhookSecret: TG_SECRET, apiBase: tg.url });

  const update = JSON.stringify(tg.update({ chatId: 4242, userId: 4242, text: 'hello' }));
  t.equal((await postWebhook(`${gw.url}/channels/tg`, update, { 'x-telegram-bot-api-secret-token': TG_SECRET })).status, 200);
  await tg.waitFor('the reply', () => tg.inChat(4242).length === 1);
  await replyCarriesTrace(t, collector, tg.callsOf('sendMessage')[0]);
  t.equal(header(tg.callsOf('getMe')[0]?.headers ?? {}, 'traceparent'), '', 'no traceparent outside a trace');
});

t.test('a Slack turn\'s chat.postMessage (WebClient) carries the turn\'s trace; auth.test at start-up carries none', async (t) => {
  const slack = new FakeSlack();
  await slack.start();
  t.teardown(() => slack.stop());
  const { gw, collector } = await channelGateway(t, { id: 'sl', platform: 'slack', botToken: SLACK_TOKEN, signingSecret: SLACK_SIGNING_SECRET, apiBase: slack.apiBase });

  const event = JSON.stringify(slack.event({ channel: 'D0ADA', im: true, text: 'hello' }));
  t.equal((await postWebhook(`${gw.url}/channels/sl`, event, FakeSlack.sign(event))).status, 200);
  await slack.waitFor('the reply', () => slack.inChat('D0ADA').length === 1);
  await replyCarriesTrace(t, collector, slack.callsOf('chat.postMessage')[0]);
  t.equal(header(slack.callsOf('auth.test')[0]?.headers ?? {}, 'traceparent'), '', 'no traceparent outside a trace');
});

t.test('a Feishu turn\'s message create (@larksuiteoapi/node-sdk) carries the turn\'s trace; bot info at start-up carries none', async (t) => {
  const creds = { appId: 'cli_trace', appSecret: 'feishu-secret', verificationToken: 'feishu-vtoken' };
  const feishu = new FeishuFake(creds);
  await feishu.start();
  t.teardown(() => feishu.stop());
  const { gw, collector } = await channelGateway(t, { id: 'fs', platform: 'feishu', ...creds, apiBase: feishu.apiBase });

  const { plain } = feishu.event({ chatId: 'oc_trace', userId: 'ou_ada', text: 'hello' });
  t.equal((await feishu.deliver(`${gw.url}/channels/fs`, feishu.wire(plain))).status, 200);
  await feishu.waitFor('the reply', () => feishu.inChat('oc_trace').length === 1);
  await replyCarriesTrace(t, collector, feishu.requests.find((r) => r.method === 'POST' && r.path === '/open-apis/im/v1/messages'));
  t.equal(header(feishu.requests.find((r) => r.path === '/open-apis/bot/v3/info')?.headers ?? {}, 'traceparent'), '', 'no traceparent outside a trace');
});
