import t from 'tap';
import { encodeHistogram, mergeHistograms, newHistogram, recordUs, summarize } from '../../bench/common/histogram.js';
import { mergeTimelines, TimelineRecorder } from '../../bench/common/timeline.js';

t.test('merging encoded histograms equals recording everything in one', async (t) => {
  const all = newHistogram();
  const parts = [newHistogram(), newHistogram(), newHistogram()];
  let seed = 7;
  for (let i = 0; i < 30_000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const us = 50 + (seed % 200_000) * (i % 97 === 0 ? 20 : 1);
    recordUs(all, us);
    recordUs(parts[i % 3], us);
  }
  const merged = mergeHistograms(parts.map(encodeHistogram));
  t.same(summarize(merged), summarize(all));
  t.equal(merged.totalCount, 30_000);
});

t.test('timelines from several shards merge interval by interval', async (t) => {
  const a = new TimelineRecorder(0, 1_000);
  const b = new TimelineRecorder(0, 1_000);
  for (let i = 0; i < 10; i++) a.completed(100, 1_000);
  for (let i = 0; i < 30; i++) b.completed(1_500, 3_000);
  b.error(1_600);
  a.open(1_200, 4);
  b.open(1_200, 6);
  const pts = mergeTimelines([a.export(), b.export()], 1_000, 2_000);
  t.equal(pts.length, 2);
  t.match(pts[0], { t: 1, rps: 10, errors: 0 });
  t.match(pts[1], { t: 2, rps: 30, errors: 1, open: 10 });
  t.ok(Math.abs(pts[1].p50 - 3) < 0.01, 'percentiles keep three significant digits');
});
