import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { loadConfig } from '../../gateway/config.js';
import { startGateway, type RunningGateway } from '../../gateway/gateway.js';
import { signToken } from '../../security/jwt.js';
import { OpenAIUpstream } from '../fakes/openai_upstream.js';
import type { ScriptedReply } from '../fakes/script.js';
import { wsTurn, type TurnEvent } from './ws_turn.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';

async function upstream(t: Test, defaultReply: ScriptedReply): Promise<OpenAIUpstream> {
  const fake = new OpenAIUpstream({ defaultReply });
  await fake.start();
  t.teardown(() => fake.close());
  return fake;
}

async function gatewayWithChain(t: Test, a: OpenAIUpstream, b: OpenAIUpstream, threshold = 5): Promise<RunningGateway> {
  const gw = await startGateway({
    ...loadConfig({ TROUPE_DATA_DIR: mkdtempSync(join(tmpdir(), 'troupe-fo-')), TROUPE_PORT: '0', TROUPE_WORKERS: '1', TROUPE_JWT_SECRET: SECRET, TROUPE_STORE: 'none' }),
    providers: [
      { id: 'a', config: { kind: 'openai', apiKey: 'sk-a', baseURL: `${a.url}/v1` }, breaker: { failureThreshold: threshold, coolDownMs: 60_000 } },
      { id: 'b', config: { kind: 'openai', apiKey: 'sk-b', baseURL: `${b.url}/v1` } },
    ],
    agents: [{ id: 'fo', chain: [{ providerId: 'a', model: 'm' }, { providerId: 'b', model: 'm' }] }],
  });
  t.teardown(() => gw.shutdown());
  return gw;
}

async function turn(gw: RunningGateway, message: string): Promise<TurnEvent | undefined> {
  const token = await signToken({ secret: SECRET, tenant: 'acme', user: 'u', ttlSec: 600 });
  return (await wsTurn(gw.port, token, { message })).events.at(-1);
}

t.test('a 429 from the first provider fails over to the next one in the chain', async (t) => {
  const a = await upstream(t, { status: 429, retryAfter: '0', errorMessage: 'slow down' });
  const b = await upstream(t, { text: 'answer from b' });
  const gw = await gatewayWithChain(t, a, b);
  const end = await turn(gw, 'hi');
  t.match(end, { event: 'chat.final', payload: { text: 'answer from b' } });
  t.ok(a.requests.length >= 1, 'the first provider was tried');
  t.equal(b.requests.length, 1);
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  t.match(metrics, /troupe_provider_errors_total\{provider="a",model="m",kind="rate_limited"\} [1-9]/, 'errors by class, per provider and model');
  t.match(metrics, /troupe_provider_failovers_total\{provider="a",model="m"\} 1/);
  t.match(metrics, /troupe_provider_requests_total\{provider="b",model="m"\} 1/);
  t.match(metrics, /troupe_provider_tokens_out_total\{provider="b",model="m"\} [1-9]/);
});

t.test('a 500 from the first provider is retried, then fails over', async (t) => {
  const a = await upstream(t, { status: 500, errorMessage: 'boom' });
  const b = await upstream(t, { text: 'answer from b' });
  const gw = await gatewayWithChain(t, a, b);
  const end = await turn(gw, 'hi');
  t.match(end, { event: 'chat.final', payload: { text: 'answer from b' } });
  t.ok(a.requests.length >= 2, `the first provider was retried (${a.requests.length} requests)`);
});

t.test('the circuit breaker stops sending to a failing provider', async (t) => {
  const a = await upstream(t, { status: 503, errorMessage: 'down' });
  const b = await upstream(t, { text: 'answer from b' });
  const gw = await gatewayWithChain(t, a, b, 2);
  for (let i = 0; i < 2; i++) t.match(await turn(gw, `hi ${i}`), { event: 'chat.final' });
  const seen = a.requests.length;
  for (let i = 0; i < 3; i++) t.match(await turn(gw, `again ${i}`), { event: 'chat.final', payload: { text: 'answer from b' } });
  t.equal(a.requests.length, seen, 'with the breaker open, the failing provider got no more requests');
  t.match(await (await fetch(`${gw.url}/metrics`)).text(), /troupe_provider_breaker_state\{provider="a"\} 2/, 'the open breaker shows on /metrics');
});
