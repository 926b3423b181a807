// Memory through the gateway with real embeddings: agents call memory_save and
// memory_search (scripted by the simulated provider); the store embeds through
// the OpenAI SDK against the fake /v1/embeddings and searches with pgvector on
// PGlite. /health says which embeddings and which vector search are in use.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../gateway/config.js';
import { startGateway } from '../../gateway/gateway.js';
import { signToken } from '../../security/jwt.js';
import { OpenAIUpstream } from '../fakes/openai_upstream.js';
import { wsTurn } from './ws_turn.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const fake = new OpenAIUpstream();
await fake.start();
t.teardown(() => fake.close());

const saving = (text: string, scope?: string) => ({
  model: 'sim', maxIterations: 1,
  provider: { kind: 'simulated' as const, tokens: 2, toolCalls: [{ name: 'memory_save', arguments: { text, ...(scope ? { scope } : {}) } }] },
});
const config = {
  ...loadConfig({ TROUPE_DATA_DIR: mkdtempSync(join(tmpdir(), 'troupe-memory-')), TROUPE_PORT: '0', TROUPE_WORKERS: '1', TROUPE_JWT_SECRET: SECRET }),
  agents: [
    { id: 'saver', ...saving('I parked my car on level three', 'tenant') },
    { id: 'secretive', ...saving('my automobile alarm code is 4411') },
    { id: 'finder', model: 'sim', maxIterations: 1, provider: { kind: 'simulated' as const, tokens: 2, toolCalls: [{ name: 'memory_search', arguments: { query: 'automobile' } }] } },
  ],
  memory: { embeddings: { kind: 'openai' as const, model: 'text-embedding-3-small', dimensions: 48, apiKey: 'sk-test', baseURL: `${fake.url}/v1` } },
};
const gw = await startGateway(config);
t.teardown(() => gw.shutdown());
const token = await signToken({ secret: SECRET, tenant: 'acme', user: 'alice', ttlSec: 600 });

const toolResult = async (agent: string): Promise<string> => {
  const turn = await wsTurn(gw.port, token, { message: 'go', agent, sessionKey: `s-${agent}` });
  const end = turn.events.find((e) => e.event === 'chat.tool' && e.payload.phase === 'end');
  return String(end?.payload.result);
};

t.test('/health names the embeddings and the vector search', async (t) => {
  const res = await fetch(`${gw.url}/health`);
  const body = (await res.json()) as { backend?: { memory?: unknown } };
  t.match(body.backend?.memory, { embeddings: 'openai:text-embedding-3-small:48', offline: false, vectorSearch: 'pgvector-hnsw' });
});

t.test('a note saved by one agent is found by another through meaning, in the tenant scope only', async (t) => {
  t.match(await toolResult('saver'), /saved memory .* \(tenant\)/);
  t.match(await toolResult('secretive'), /saved memory .* \(agent\)/);
  const before = fake.requests.filter((r) => r.url.endsWith('/embeddings')).length;
  const found = await toolResult('finder');
  t.match(found, /\(tenant\) I parked my car on level three/, '"automobile" finds the car');
  t.notMatch(found, /alarm code/, 'another agent\'s own memory stays private');
  t.equal(fake.requests.filter((r) => r.url.endsWith('/embeddings')).length - before, 1, 'the query was embedded by the provider');
  t.match(fake.lastRequest.body, { model: 'text-embedding-3-small', input: ['automobile'], dimensions: 48 });
});

t.test('the default gateway labels its hash embeddings as the offline default', async (t) => {
  const { describeMemory } = await import('../../gateway/memory_config.js');
  const { HashEmbedder } = await import('../../store/index.js');
  const { embedderInfo } = await import('../../actors/store_host.js');
  t.match(describeMemory(embedderInfo(new HashEmbedder()), 'portable'), { embeddings: /^hash:fnv1a:256 \(offline default/, offline: true });
  t.same(loadConfig({ TROUPE_DATA_DIR: tmpdir() }).memory, { embeddings: { kind: 'hash', dimensions: 256 } });
});

t.test('embeddings from the environment; a remote kind without model or dimensions is refused at load', async (t) => {
  const env = { TROUPE_DATA_DIR: tmpdir(), TROUPE_EMBEDDINGS: 'ollama', TROUPE_EMBEDDINGS_MODEL: 'nomic-embed-text', TROUPE_EMBEDDINGS_DIMENSIONS: '768' };
  t.same(loadConfig(env).memory, { embeddings: { kind: 'ollama', model: 'nomic-embed-text', dimensions: 768 } });
  t.throws(() => loadConfig({ TROUPE_DATA_DIR: tmpdir(), TROUPE_EMBEDDINGS: 'gemini' }), /gemini embeddings need a model and dimensions/);
  t.throws(() => loadConfig({ TROUPE_DATA_DIR: tmpdir(), TROUPE_EMBEDDINGS: 'word2vec' }), /TROUPE_EMBEDDINGS must be/);
});
