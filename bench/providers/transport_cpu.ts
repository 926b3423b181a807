// CPU per request of a provider adapter on each transport (the vendor SDK vs
// the lean undici path), against that provider's fake upstream running in a
// child process, so this process's CPU (process.cpuUsage: every thread, GC
// included) is the client side alone. Rounds alternate sdk, lean, sdk, lean
// so that a machine busy with other work weighs on both alike.
//
//   node dist/bench/providers/transport_cpu.js [--provider openai|anthropic|gemini|all]
//        [--n 5000] [--concurrency 4] [--words 6] [--rounds 2]

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { AnthropicProvider } from '../../providers/anthropic.js';
import { AnthropicLeanProvider } from '../../providers/anthropic_lean.js';
import { GeminiProvider } from '../../providers/gemini.js';
import { GeminiLeanProvider } from '../../providers/gemini_lean.js';
import type { ChatRequest, Provider } from '../../providers/index.js';
import { closeLeanDispatcher } from '../../providers/lean_http.js';
import { OpenAIProvider } from '../../providers/openai.js';
import { OpenAILeanProvider } from '../../providers/openai_lean.js';

type Kind = 'openai' | 'anthropic' | 'gemini';

const FAKES: Record<Kind, { module: string; name: string; path: string }> = {
  openai: { module: 'openai_upstream.js', name: 'OpenAIUpstream', path: '/v1' },
  anthropic: { module: 'anthropic_upstream.js', name: 'AnthropicUpstream', path: '' },
  gemini: { module: 'gemini_upstream.js', name: 'GeminiUpstream', path: '' },
};

function adapters(kind: Kind, baseURL: string): { sdk: Provider; lean: Provider } {
  const o = { apiKey: 'k-bench', baseURL };
  switch (kind) {
    case 'openai':
      return { sdk: new OpenAIProvider(o), lean: new OpenAILeanProvider(o) };
    case 'anthropic':
      return { sdk: new AnthropicProvider(o), lean: new AnthropicLeanProvider(o) };
    case 'gemini':
      return { sdk: new GeminiProvider(o), lean: new GeminiLeanProvider(o) };
  }
}

/** Starts the fake in its own process with a fixed reply of `words` words; resolves with its root URL. */
async function startFake(kind: Kind, words: number): Promise<{ url: string; child: ChildProcess }> {
  const { module, name } = FAKES[kind];
  const href = new URL(`../../test/fakes/${module}`, import.meta.url).href;
  const text = Array.from({ length: words }, (_, i) => `w${i}`).join(' ');
  const code = `const { ${name} } = await import(${JSON.stringify(href)});
const fake = new ${name}({ record: false, defaultReply: { text: ${JSON.stringify(text)} } });
const port = await fake.start();
process.stdout.write(JSON.stringify({ port }) + '\\n');
process.once('SIGTERM', () => fake.close().then(() => process.exit(0)));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const { port } = JSON.parse(line) as { port: number };
  return { url: `http://127.0.0.1:${port}`, child };
}

const REQUEST: ChatRequest = {
  model: 'bench-model',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Say hello.' },
  ],
};

/** Runs n requests, `concurrency` at a time; returns CPU µs per request. */
async function round(provider: Provider, n: number, concurrency: number): Promise<number> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      let stopped = false;
      for await (const event of provider.stream(REQUEST)) if (event.type === 'stop') stopped = true;
      if (!stopped) throw new Error('a request ended without its stop');
    }
  };
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const spent = process.cpuUsage(before);
  return (spent.user + spent.system) / n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      provider: { type: 'string', default: 'all' },
      n: { type: 'string', default: '5000' },
      concurrency: { type: 'string', default: '4' },
      words: { type: 'string', default: '6' },
      rounds: { type: 'string', default: '2' },
    },
  });
  const kinds: Kind[] = values.provider === 'all' ? ['openai', 'anthropic', 'gemini'] : [values.provider as Kind];
  const n = Number(values.n);
  const concurrency = Number(values.concurrency);
  const words = Number(values.words);
  const rounds = Number(values.rounds);
  for (const kind of kinds) {
    if (!(kind in FAKES)) throw new Error(`unknown --provider ${kind}`);
    const { url, child } = await startFake(kind, words);
    try {
      const { sdk, lean } = adapters(kind, url + FAKES[kind].path);
      // Warm both paths (JIT, connections) before anything counts.
      await round(sdk, 300, concurrency);
      await round(lean, 300, concurrency);
      const figures: Record<'sdk' | 'lean', number[]> = { sdk: [], lean: [] };
      for (let r = 0; r < rounds; r++) {
        figures.sdk.push(await round(sdk, n, concurrency));
        figures.lean.push(await round(lean, n, concurrency));
      }
      const show = (xs: number[]): string => xs.map((x) => `${x.toFixed(0)} µs`).join(', ');
      const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
      process.stdout.write(
        `${kind} (${words}-word reply, n=${n} × ${rounds} rounds, concurrency ${concurrency}): ` +
          `sdk ${show(figures.sdk)}; lean ${show(figures.lean)}; lean ÷ sdk ${(mean(figures.lean) / mean(figures.sdk)).toFixed(2)}; ` +
          `load ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`,
      );
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
  await closeLeanDispatcher();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
