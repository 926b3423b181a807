// createProvider: configuration in, the right adapter out, keys from the
// environment when the configuration has none.

import { execFileSync } from 'node:child_process';
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

// Every actor worker builds its agents' providers: building one must not load an SDK or undici
// (tens of MB per worker); the adapter's module loads with the first request. A fresh process
// records every module URL it resolves (a resolve hook posting to a port; an import of a marker
// module tells when the hook has reported all before it), builds a provider of each kind, then
// sends one request through the lean openai one (to a closed port: only the loading matters).
const loadProbe = `
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const hook = 'let port; export function initialize(d) { port = d.port; }'
  + ' export async function resolve(s, c, next) { const r = await next(s, c); port.postMessage(r.url); return r; }';
register('data:text/javascript,' + encodeURIComponent(hook), { data: { port: port2 }, transferList: [port2] });
const seen = [];
const waiting = new Map();
port1.on('message', (url) => {
  seen.push(url);
  const m = /^data:text\\/javascript,export%20const%20mark%3D(\\d+)$/.exec(url);
  if (m !== null) waiting.get(m[1])?.();
});
const settle = (n) => new Promise((resolve) => { waiting.set(String(n), resolve); void import('data:text/javascript,export%20const%20mark%3D' + n); });
const packages = () => [...new Set(seen.map((u) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(u)?.[1]).filter((p) => p !== undefined))].sort();
const { createProvider } = await import(${JSON.stringify(new URL('../../providers/index.js', import.meta.url).href)});
const env = { OPENAI_API_KEY: 'a', ANTHROPIC_API_KEY: 'b', GEMINI_API_KEY: 'c' };
for (const kind of ['openai', 'anthropic', 'gemini', 'ollama', 'simulated']) createProvider({ kind }, env);
for (const kind of ['openai', 'anthropic', 'gemini']) createProvider({ kind, transport: 'sdk' }, env);
await settle(1);
const built = packages();
for (const kind of ['openai', 'anthropic', 'gemini']) {
  const provider = createProvider({ kind, baseURL: 'http://127.0.0.1:9/v1', timeoutMs: 5000 }, env);
  try { for await (const _ of provider.stream({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })); } catch {}
}
await settle(2);
port1.close();
process.stdout.write(JSON.stringify({ built, used: packages() }));
`;

t.test('factory: building providers loads no SDK and no HTTP client; the first requests load the lean adapters, not the SDKs', async (t) => {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', loadProbe], { encoding: 'utf8', timeout: 60_000 });
  const { built, used } = JSON.parse(out) as { built: string[]; used: string[] };
  for (const pkg of ['openai', '@anthropic-ai/sdk', '@google/genai', 'undici']) t.notOk(built.includes(pkg), `${pkg} not loaded by createProvider`);
  t.ok(used.includes('undici'), 'the lean adapters loaded undici with their first requests');
  for (const pkg of ['openai', '@anthropic-ai/sdk', '@google/genai']) t.notOk(used.includes(pkg), `and not ${pkg}`);
});
