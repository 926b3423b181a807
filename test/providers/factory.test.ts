// createProvider: configuration in, the right adapter out, keys from the
// environment when the configuration has none.

import t from 'tap';
import { collectStream, createProvider, ProviderConfigError, type ProviderConfig } from '../../providers/index.js';
import { OpenAIUpstream } from '../fakes/openai_upstream.js';
import { started } from './conformance.js';

t.test('factory: each kind builds the adapter of that kind', async (t) => {
  const env = { OPENAI_API_KEY: 'a', ANTHROPIC_API_KEY: 'b', GEMINI_API_KEY: 'c' };
  for (const kind of ['openai', 'anthropic', 'gemini', 'ollama', 'simulated'] as const) {
    t.equal(createProvider({ kind }, env).kind, kind);
  }
});

t.test('factory: a missing API key is a config error naming the variable', async (t) => {
  t.throws(() => createProvider({ kind: 'anthropic' }, {}), { name: 'ProviderConfigError', code: 'INVALID_REQUEST', message: /ANTHROPIC_API_KEY/ });
  t.throws(() => createProvider({ kind: 'openai', apiKey: ' ' }, {}), ProviderConfigError);
});

t.test('factory: an unknown kind is a config error listing the known ones', async (t) => {
  const bogus = { kind: 'palm' } as unknown as ProviderConfig;
  t.throws(() => createProvider(bogus, {}), { code: 'INVALID_REQUEST', message: /openai, anthropic, gemini, ollama, simulated/ });
});

t.test('factory: OPENAI_API_KEY and OPENAI_BASE_URL from the environment are used', async (t) => {
  const fake = await started(t, () => new OpenAIUpstream());
  fake.script({ text: 'from env' });
  const provider = createProvider({ kind: 'openai' }, { OPENAI_API_KEY: 'env-key', OPENAI_BASE_URL: `${fake.url}/v1` });
  const reply = await collectStream(provider.stream({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }));
  t.equal(reply.text, 'from env');
  t.equal(fake.lastRequest.headers.authorization, 'Bearer env-key');
});

t.test('factory: the simulated kind takes its options', async (t) => {
  const provider = createProvider({ kind: 'simulated', tokens: 3 }, {});
  const reply = await collectStream(provider.stream({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }));
  t.equal(reply.text.split(' ').length, 3);
});
