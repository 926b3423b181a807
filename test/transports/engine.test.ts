import t from 'tap';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { detectEngine } from '../../transports/engine.js';

const child = fileURLToPath(new URL('./fixtures/fallback_child.js', import.meta.url));

function runChild(env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [child], { env, timeout: 20_000 }, (err, stdout) => {
      if (err !== null) return reject(err);
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line === undefined) return reject(new Error(`no report in: ${stdout}`));
      resolve(JSON.parse(line) as Record<string, unknown>);
    });
  });
}

t.test('this machine loads the native uWS binary', async (t) => {
  t.equal(detectEngine(), 'native');
});

t.test('a JavaScript App function is detected as the fallback', async (t) => {
  t.equal(detectEngine({ App: function App() { return {}; } }), 'fallback');
});

t.test('with UWS_USE_FALLBACK=1 the front door refuses to start unless allowFallback, and /health says fallback', async (t) => {
  const report = await runChild({ ...process.env, UWS_USE_FALLBACK: '1' });
  t.same(report, { detected: 'fallback', refused: true, refusal: 'engine_fallback', healthEngine: 'fallback', engine: 'fallback' });
});
