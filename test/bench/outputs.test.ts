import t from 'tap';
import { parseMetrics } from '../../bench/metrics/prometheus.js';
import { soakVerdict } from '../../bench/metrics/soak.js';
import { renderHtml } from '../../bench/report/html.js';
import { RESULT_SCHEMA, validateResult, type BenchResult, type ServerSample } from '../../bench/report/result.js';
import { summaryText } from '../../bench/report/table.js';

const lat = { count: 3, min: 1, mean: 2, p50: 2, p90: 3, p99: 3, p999: 3, max: 3 };
const sample = (): BenchResult => ({
  schema: RESULT_SCHEMA, kind: 'ws', name: 'ws ping closed', target: 'ws://127.0.0.1:1/ws', startedAt: '2026-01-01T00:00:00.000Z',
  settings: { conns: 1 }, measuredMs: 1000,
  requests: { sent: 5, completed: 3, failed: 1, retryable: 1, lost: 0, perSec: 3, warmup: 2 },
  latency: lat, connections: { target: 1, opened: 1, failed: 0 }, errors: { INTERNAL: 1, UNAVAILABLE: 1 },
  timeline: [{ t: 1, rps: 3, errors: 2, open: 1, p50: 2, p99: 3 }],
  server: { samples: [{ t: 0, phase: 'measure', rssBytes: 1e8 }, { t: 1, phase: 'measure', rssBytes: 1.1e8 }], scrapeErrors: 0, rssPeakBytes: 1.1e8 },
  client: { processes: 1, cpuPercent: 12 },
});

t.test('a well-formed result validates', async (t) => {
  t.same(validateResult(sample()), []);
});

t.test('validation names the field that is wrong', async (t) => {
  const bad = sample() as unknown as { requests: Record<string, unknown>; timeline: Record<string, unknown>[] };
  bad.requests.lost = -1;
  bad.timeline[0].p99 = 'slow';
  t.same(validateResult(bad), ['$.requests.lost must be a whole number >= 0', '$.timeline[0].p99 must be a finite number']);
});

t.test('validation rejects counts that do not add up', async (t) => {
  const r = sample();
  r.requests.completed = 4;
  t.match(validateResult(r), [/must equal sent/]);
});

t.test('metrics scraping sums per-host series and converts lag to ms', async (t) => {
  const text = [
    '# HELP troupe_process_resident_memory_bytes x',
    'troupe_process_resident_memory_bytes 123456',
    'troupe_process_cpu_seconds_total 2.5',
    'troupe_actor_mailbox_depth{host="0"} 3',
    'troupe_actor_mailbox_depth{host="1"} 4',
    'troupe_actor_mailbox_depth_other 99',
    'troupe_nodejs_eventloop_lag_p99_seconds 0.012',
    'troupe_host_event_loop_lag_seconds{host="1"} 0.02',
    'troupe_worker_replacements_total 1',
  ].join('\n');
  t.same(parseMetrics(text), { rssBytes: 123456, cpuSeconds: 2.5, eventLoopLagMs: 20, mailboxDepth: 7, workerReplacements: 1 });
  t.same(parseMetrics('nothing_here 1'), {});
});

const rss = (values: number[]): ServerSample[] => values.map((v, i) => ({ t: i * 10, phase: i < 2 ? 'warmup' : 'measure', rssBytes: v }));

t.test('soak flags steady RSS growth past the threshold, after warm-up only', async (t) => {
  const growing = rss([1e8, 5e8, 1e8, 1.2e8, 1.4e8, 1.6e8, 1.8e8]);
  t.match(soakVerdict(growing, 50e6), { leak: true, growthBytes: 80e6 });
  const flat = rss([1e8, 5e8, 1e8, 1.3e8, 1e8, 1.01e8, 1e8]);
  t.match(soakVerdict(flat, 50e6), { leak: false });
});

t.test('the HTML report is self-contained, with charts', async (t) => {
  const html = renderHtml(sample());
  t.match(html, /<svg[^>]*>.*<polyline/s);
  t.notMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/);
  t.match(html, /Server RSS/);
  t.match(summaryText(sample()), /3 \/ 1 \/ 1 \/ 0/);
});
