// The OpenAI fake as its own process, as the benchmarks start it: it prints
// its port as one JSON line, answers streaming and non-streaming requests,
// and exits on SIGTERM.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import t from 'tap';
import { collectStream } from '../../providers/index.js';
import { OpenAIProvider } from '../../providers/openai.js';

const script = fileURLToPath(new URL('../fakes/openai_upstream.js', import.meta.url));

t.test('openai fake process: prints {"port":N} and serves the fixed reply both ways', async (t) => {
  const child = spawn(process.execPath, [script, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const lines = createInterface({ input: child.stdout });
  const [first] = (await once(lines, 'line', { signal: AbortSignal.timeout(10_000) })) as [string];
  const { port } = JSON.parse(first) as { port: number };
  t.ok(Number.isInteger(port) && port > 0, `listening on ${port}`);

  const baseURL = `http://127.0.0.1:${port}/v1`;
  const streamed = await collectStream(new OpenAIProvider({ apiKey: 'k', baseURL }).stream({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }));
  t.equal(streamed.text, 'Hello from the fake upstream.');
  t.equal(streamed.stopReason, 'stop');

  const client = new OpenAI({ apiKey: 'k', baseURL, maxRetries: 0 });
  const whole = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
  t.equal(whole.choices[0].message.content, 'Hello from the fake upstream.');
  t.equal(whole.object, 'chat.completion');
  t.ok((whole.usage?.completion_tokens ?? 0) > 0);

  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  t.equal(code, 0, 'exits cleanly on SIGTERM');
});

t.test('openai fake module: importing it starts nothing', async (t) => {
  const before = process.listenerCount('SIGTERM');
  await import('../fakes/openai_upstream.js');
  t.equal(process.listenerCount('SIGTERM'), before);
});
