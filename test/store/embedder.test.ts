import t from 'tap';
import { HashEmbedder, reciprocalRankFusion, RRF_K } from '../../store/index.js';

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

t.test('the hash embedder gives the same vector for the same text', async (t) => {
  const e = new HashEmbedder(128);
  const [a] = await e.embed(['Kubernetes on AWS']);
  const [b] = await new HashEmbedder(128).embed(['Kubernetes on AWS']);
  t.same(Array.from(a), Array.from(b));
  t.equal(a.length, 128);
});

t.test('hash embeddings are unit length, or zero for text without words', async (t) => {
  const [a, empty] = await new HashEmbedder().embed(['some words here', ' ,.; ']);
  t.ok(Math.abs(dot(a, a) - 1) < 1e-5);
  t.equal(dot(empty, empty), 0);
});

t.test('texts sharing words and word pieces are closer than unrelated ones', async (t) => {
  const [q, near, far] = await new HashEmbedder().embed([
    'deploying kubernetes',
    'kubernetes deployment guide',
    'green tea with lemon',
  ]);
  t.ok(dot(q, near) > dot(q, far) + 0.2, `near ${dot(q, near)} far ${dot(q, far)}`);
});

t.test('an out-of-range dimension is refused', async (t) => {
  t.throws(() => new HashEmbedder(3), RangeError);
});

t.test('rank fusion puts items both lists agree on first', async (t) => {
  const fused = reciprocalRankFusion([
    ['a', 'b', 'c'],
    ['b', 'd', 'e'],
  ]);
  t.equal(fused[0].id, 'b');
  t.same(fused[0].ranks, [2, 1]);
  t.equal(fused[0].score, 1 / (RRF_K + 2) + 1 / (RRF_K + 1));
  t.same(fused.find((f) => f.id === 'd')?.ranks, [null, 2]);
});
