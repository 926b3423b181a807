// Real embedding adapters (openai SDK, Gemini SDK, Ollama fetch) against each
// provider's fake embedding endpoint, speaking the real wire shapes.

import t from 'tap';
import { ProviderError, type EmbeddingConfig, type EmbeddingModel } from '../../providers/index.js';
import { createEmbeddingModel } from '../../providers/embed_factory.js';
import { GeminiUpstream } from '../fakes/gemini_upstream.js';
import { OllamaUpstream } from '../fakes/ollama_upstream.js';
import { OpenAIUpstream } from '../fakes/openai_upstream.js';
import type { FakeUpstream } from '../fakes/upstream.js';
import { started } from './conformance.js';

interface Case {
  kind: EmbeddingConfig['kind'];
  fake: () => FakeUpstream;
  config: (url: string) => EmbeddingConfig;
  /** The request path for one text and for several. */
  paths: [string, string];
  /** Where the dimension travels in the body of the one-text request. */
  dimensionIn: (body: Record<string, unknown>) => unknown;
}

const cases: Case[] = [
  {
    kind: 'openai',
    fake: () => new OpenAIUpstream(),
    config: (url) => ({ kind: 'openai', model: 'text-embedding-3-small', dimensions: 32, apiKey: 'sk-test', baseURL: `${url}/v1`, timeoutMs: 5000 }),
    paths: ['/v1/embeddings', '/v1/embeddings'],
    dimensionIn: (b) => b.dimensions,
  },
  {
    kind: 'gemini',
    fake: () => new GeminiUpstream(),
    config: (url) => ({ kind: 'gemini', model: 'text-embedding-004', dimensions: 32, apiKey: 'g-test', baseURL: url, timeoutMs: 5000 }),
    // @google/genai sends even one text to batchEmbedContents, the dimension in each request.
    paths: ['/v1beta/models/text-embedding-004:batchEmbedContents', '/v1beta/models/text-embedding-004:batchEmbedContents'],
    dimensionIn: (b) => (b.requests as { outputDimensionality?: unknown }[] | undefined)?.[0]?.outputDimensionality,
  },
  {
    kind: 'ollama',
    fake: () => new OllamaUpstream(),
    config: (url) => ({ kind: 'ollama', model: 'nomic-embed-text', dimensions: 32, baseURL: url, timeoutMs: 5000 }),
    paths: ['/api/embed', '/api/embed'],
    dimensionIn: (b) => b.dimensions,
  },
];

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

for (const c of cases) {
  t.test(`${c.kind}: one text goes to ${c.paths[0]} with the configured dimension`, async (t) => {
    const fake = await started(t, c.fake);
    const model: EmbeddingModel = createEmbeddingModel(c.config(fake.url), {});
    const [v] = await model.embed(['a note about my car']);
    t.equal(v.length, 32);
    t.equal(model.dimension, 32);
    t.equal(model.id, `${c.kind}:${(c.config('').model)}:32`);
    t.equal(fake.lastRequest.url.split('?')[0], c.paths[0]);
    t.equal(c.dimensionIn(fake.lastRequest.body as Record<string, unknown>), 32);
  });

  t.test(`${c.kind}: several texts go in one request, answers in input order`, async (t) => {
    const fake = await started(t, c.fake);
    const model = createEmbeddingModel(c.config(fake.url), {});
    const texts = ['car', 'automobile', 'doctor'];
    const vs = await model.embed(texts);
    t.equal(fake.requests.length, 1);
    t.equal(fake.lastRequest.url.split('?')[0], c.paths[1]);
    const singles = await Promise.all(texts.map(async (x) => (await model.embed([x]))[0]));
    for (let i = 0; i < texts.length; i++) t.same([...vs[i]], [...singles[i]], `vector ${i} is the one for "${texts[i]}"`);
    // The fake model knows synonyms: this is what real embeddings add over hashing.
    t.ok(cosine(vs[0], vs[1]) > 0.99, 'car ~ automobile');
    t.ok(cosine(vs[0], vs[2]) < 0.5, 'car !~ doctor');
  });

  t.test(`${c.kind}: batchSize splits a long list into several requests`, async (t) => {
    const fake = await started(t, c.fake);
    const model = createEmbeddingModel({ ...c.config(fake.url), batchSize: 2 }, {});
    const vs = await model.embed(['a', 'b', 'c', 'd', 'e']);
    t.equal(vs.length, 5);
    t.equal(fake.requests.length, 3);
  });

  t.test(`${c.kind}: sendDimensions false leaves the dimension out of the request`, async (t) => {
    const fake = await started(t, c.fake);
    // The fake then answers with its default 64 dimensions, so configure 64.
    const model = createEmbeddingModel({ ...c.config(fake.url), dimensions: 64, sendDimensions: false }, {});
    const [v] = await model.embed(['hello']);
    t.equal(v.length, 64);
    t.equal(c.dimensionIn(fake.lastRequest.body as Record<string, unknown>), undefined);
  });

  t.test(`${c.kind}: a vector of the wrong length is refused as bad_request`, async (t) => {
    const fake = await started(t, c.fake);
    const model = createEmbeddingModel({ ...c.config(fake.url), dimensions: 48, sendDimensions: false }, {});
    const err = await model.embed(['hello']).then(() => undefined, (e: unknown) => e);
    t.ok(err instanceof ProviderError);
    t.equal((err as ProviderError).kind, 'bad_request');
    t.match((err as ProviderError).message, /64 dimensions, configured 48/);
  });

  t.test(`${c.kind}: a 429 from the endpoint is rate_limited with its retry delay`, async (t) => {
    const fake = await started(t, c.fake);
    fake.script({ status: 429, retryAfter: '2' });
    const model = createEmbeddingModel(c.config(fake.url), {});
    const err = await model.embed(['hello']).then(() => undefined, (e: unknown) => e);
    t.ok(err instanceof ProviderError);
    t.equal((err as ProviderError).kind, 'rate_limited');
    t.equal((err as ProviderError).retryAfterMs, 2000);
  });
}

t.test('openai: the key travels as a bearer token and base64 floats are decoded', async (t) => {
  const fake = await started(t, () => new OpenAIUpstream());
  const model = createEmbeddingModel({ kind: 'openai', model: 'm', dimensions: 16, baseURL: `${fake.url}/v1` }, { OPENAI_API_KEY: 'sk-env' });
  const [v] = await model.embed(['x']);
  t.equal(fake.lastRequest.headers.authorization, 'Bearer sk-env');
  t.equal((fake.lastRequest.body as { encoding_format?: string }).encoding_format, 'base64');
  t.equal(v.length, 16);
});

t.test('gemini: the key travels in x-goog-api-key and batch requests name the model', async (t) => {
  const fake = await started(t, () => new GeminiUpstream());
  const model = createEmbeddingModel({ kind: 'gemini', model: 'gemini-embedding-001', dimensions: 16, baseURL: fake.url }, { GEMINI_API_KEY: 'g-env' });
  await model.embed(['x', 'y']);
  t.equal(fake.lastRequest.headers['x-goog-api-key'], 'g-env');
  t.match(fake.lastRequest.body, { requests: [{ model: 'models/gemini-embedding-001', content: { parts: [{ text: 'x' }] } }, { model: 'models/gemini-embedding-001' }] });
});

t.test('a missing key or a bad dimension is refused before any request', async (t) => {
  t.throws(() => createEmbeddingModel({ kind: 'openai', model: 'm', dimensions: 16 }, {}), { code: 'INVALID_REQUEST' });
  t.throws(() => createEmbeddingModel({ kind: 'ollama', model: 'm', dimensions: 4 }, {}), /dimensions must be an integer/);
});
