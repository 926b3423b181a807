import { readdirSync } from 'node:fs';
import t from 'tap';
import { runBenchCommand } from '../../bench/cli.js';
import { runProxyBench } from '../../bench/proxy/run.js';
import { validateResult } from '../../bench/report/result.js';

t.test('bench proxy drives Troupe and the upstream alike and reports a ratio per load', async (t) => {
  const dir = t.testdir();
  // The first leg meets a fresh gateway under --cpu-prof that loads, on its first requests, what they need (the
  // store worker's agent loading, the worker's provider transport, the store's first queries): on a loaded machine
  // that took seconds, past any fixed warm-up. A closed-loop window opens only after a verified answer per connection.
  const doc = await runProxyBench({ conns: 2, durationMs: 500, warmupMs: 200, rate: 20, workers: 1, cpuProfDir: dir }, () => undefined);
  t.same(validateResult(doc), []);
  t.same(doc.ratios.map((r) => r.test), ['proxy json closed', 'proxy stream closed', 'proxy json open 20/s', 'proxy stream open 20/s']);
  t.ok(doc.ratios.every((r) => r.subject === 'troupe' && r.reference === 'openai-upstream'));
  t.same(doc.results.map((r) => r.name), doc.ratios.flatMap((r) => [`troupe ${r.test}`, `upstream ${r.test}`]));
  for (const r of doc.results) {
    const counts = `${JSON.stringify(r.requests)} ${JSON.stringify(r.errors)}`;
    if (r.settings.client === 'autocannon') {
      // What the closed loop guarantees: its window opened on a target that had answered each connection. How many
      // answers fit in the window after that depends on the machine's load, which a test does not assert.
      t.ok(Number(r.settings.warmupAnswered) >= 2, `${r.name}: ${String(r.settings.warmupAnswered)} verified answers before the window`);
      t.ok(r.requests.sent + Number(r.settings.cutOffAtEnd) > 0, `${r.name}: requests went out in the window: ${counts}`);
    } else {
      // The paced client drains: every scheduled arrival has its outcome.
      t.ok(r.requests.completed > 0, `${r.name}: completed ${counts}`);
    }
    t.equal(r.requests.completed, r.requests.sent, `${r.name}: every answer verified: ${counts}`);
    t.equal(r.settings.conns, 2);
  }
  t.ok(doc.results.filter((r) => r.settings.stream === true).every((r) => (r.ttft?.count ?? 0) > 0), 'streams measure time to first token');
  const troupe = doc.results.filter((r) => r.name.startsWith('troupe'));
  t.ok(troupe.every((r) => r.target !== doc.results[1].target), 'Troupe and the upstream are different servers');
  // one profile for the main thread and one for the actor worker
  t.ok(readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).length >= 2, 'the gateway wrote a CPU profile per thread');
});

t.test('bench proxy refuses bad flags before starting anything', async (t) => {
  const run = (argv: string[]) => runBenchCommand(['proxy', ...argv], () => undefined);
  await t.rejects(run(['--rate', '-1']), { code: 'INVALID_REQUEST', message: /--rate/ });
  await t.rejects(run(['--workers', '0']), { code: 'INVALID_REQUEST', message: /--workers/ });
  await t.rejects(run(['--store', 'mysql']), { code: 'INVALID_REQUEST', message: /--store must be pglite, postgres or none/ });
  await t.rejects(run(['--stream']), { code: 'INVALID_REQUEST', message: /unknown option --stream/ });
});
