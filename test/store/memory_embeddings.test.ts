// Memory with real embeddings: the store embeds through each provider's
// embedding endpoint (fake upstreams, real SDKs) and finds notes by meaning,
// which the offline hash embedder cannot.
import t from 'tap';
import type { EmbeddingConfig } from '../../providers/index.js';
import { createEmbeddingModel } from '../../providers/embed_factory.js';
import { HashEmbedder, type Embedder, type Store } from '../../store/index.js';
import { GeminiUpstream } from '../fakes/gemini_upstream.js';
import { OllamaUpstream } from '../fakes/ollama_upstream.js';
import { OpenAIUpstream } from '../fakes/openai_upstream.js';
import type { FakeUpstream } from '../fakes/upstream.js';
import { eachBackend, seedTenants, type TapTest } from './backends.js';

const fakes: Record<EmbeddingConfig['kind'], FakeUpstream> = {
  openai: new OpenAIUpstream(),
  gemini: new GeminiUpstream(),
  ollama: new OllamaUpstream(),
};
for (const fake of Object.values(fakes)) await fake.start();
t.teardown(() => Promise.all(Object.values(fakes).map((f) => f.close())));

const configs: EmbeddingConfig[] = [
  { kind: 'openai', model: 'text-embedding-3-small', dimensions: 48, apiKey: 'sk-test', baseURL: `${fakes.openai.url}/v1` },
  { kind: 'gemini', model: 'text-embedding-004', dimensions: 48, apiKey: 'g-test', baseURL: fakes.gemini.url },
  { kind: 'ollama', model: 'nomic-embed-text', dimensions: 48, baseURL: fakes.ollama.url },
];

const notes = ['I parked my car on level three', 'The physician said to rest', 'Pay the electricity bill on Friday'];

async function recallCheck(t: TapTest, embedder: Embedder, tenant: string, store: Store): Promise<void> {
  for (const content of notes) await store.rememberFor(tenant, { content, namespace: 'agent:a' });
  // No word in common with the notes: only meaning can connect them.
  for (const [query, want] of [['automobile', notes[0]], ['doctor', notes[1]], ['invoice', notes[2]]] as const) {
    const hits = await store.recallFor(tenant, query, { namespaces: ['agent:a'], limit: 3 });
    t.equal(hits[0]?.content, want, `"${query}" finds "${want}"`);
    t.equal(hits[0]?.textRank, null, 'by vector alone');
    t.equal(hits[0]?.embedder, embedder.id);
  }
}

for (const config of configs) {
  const embedder = createEmbeddingModel(config, {});
  await eachBackend(async (t, { store }) => {
    await seedTenants(store, 'acme');
    t.test(`${config.kind} embeddings: a note is found by meaning, through ${store.vectorSearch}`, async (t) => {
      const before = fakes[config.kind].requests.length;
      await recallCheck(t, embedder, 'acme', store);
      t.equal(fakes[config.kind].requests.length - before, notes.length + 3, 'one embedding call per save and per search');
    });
  }, { embedder });
}

t.test('the offline hash embedder does not connect synonyms (why real embeddings matter)', async (t) => {
  const h = new HashEmbedder();
  const [car, automobile] = await h.embed(['car', 'automobile']);
  let dot = 0;
  for (let i = 0; i < car.length; i++) dot += car[i] * automobile[i];
  t.ok(dot < 0.3, `cosine ${dot.toFixed(3)}`);
});
