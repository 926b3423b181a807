import t from 'tap';
import { placeOf, summarizeProfile, type CpuProfile } from '../../bench/proxy/profile.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

// (root) ─┬─ handle (troupe) ─── handle (recursion) ─── parse (openai)
//         ├─ (garbage collector)
//         └─ (idle)
const PROFILE: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 5, 6] },
    { id: 2, callFrame: frame('handle', 'file:///w/dist/actors/agent.js', 9), children: [3] },
    { id: 3, callFrame: frame('handle', 'file:///w/dist/actors/agent.js', 9), children: [4] },
    { id: 4, callFrame: frame('parse', 'file:///w/node_modules/openai/core.mjs', 1) },
    { id: 5, callFrame: frame('(garbage collector)') },
    { id: 6, callFrame: frame('(idle)') },
  ],
  startTime: 0,
  endTime: 10_000,
  // a sample's time is the next delta: 2 ms in handle, 3 ms in parse, 1 ms GC, 4 ms idle
  samples: [2, 4, 5, 6, 2],
  timeDeltas: [0, 2_000, 3_000, 1_000, 4_000],
};

t.test('self time by function and place; idle apart; recursion counted once inclusively', async (t) => {
  const s = summarizeProfile(PROFILE);
  t.equal(s.totalMs, 10);
  t.equal(s.idleMs, 4);
  t.equal(s.busyMs, 6);
  t.equal(s.gcMs, 1);
  t.same(s.bySelf.map((r) => [r.name, r.ms]), [['parse openai:2', 3], ['handle troupe actors/agent.js:10', 2], ['(garbage collector)', 1]]);
  t.same(s.byPlace.map((r) => [r.name, r.pct]), [['openai', 50], ['troupe actors/agent.js', 33.3], ['(garbage collector)', 16.7]]);
  const handle = s.byInclusive.find((r) => r.name.startsWith('handle'));
  t.equal(handle?.ms, 5, 'handle holds its own 2 ms and parse\'s 3 ms, once despite the recursion');
});

t.test('places name the package, the Node internal or the Troupe file', async (t) => {
  t.equal(placeOf('file:///x/node_modules/@scope/pkg/a.js', 'f'), '@scope/pkg');
  t.equal(placeOf('node:internal/deps/undici/undici', 'fetch'), 'node:internal/deps/undici');
  t.equal(placeOf('node:internal/streams/readable', 'read'), 'node:internal/streams');
  t.equal(placeOf('file:///w/dist/runtime/hub.js', 'flush'), 'troupe runtime/hub.js');
  t.equal(placeOf('', 'postMessage'), '(native)');
  t.equal(placeOf('', '(program)'), '(program)');
});
