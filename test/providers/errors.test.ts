// ProviderError and the status / Retry-After rules every adapter shares.

import t from 'tap';
import { genericError } from '../../providers/errors.js';
import { kindForStatus, MAX_RETRY_AFTER_MS, parseRetryAfter, ProviderError } from '../../providers/index.js';

const headers = (entries: Record<string, string>): Headers => new Headers(entries);

t.test('Retry-After in seconds becomes milliseconds', async (t) => {
  t.equal(parseRetryAfter(headers({ 'retry-after': '7' })), 7000);
  t.equal(parseRetryAfter(headers({ 'retry-after': '1.5' })), 1500);
});

t.test('Retry-After as an HTTP date is the time left until then', async (t) => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  t.equal(parseRetryAfter(headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }), now), 30_000);
  t.equal(parseRetryAfter(headers({ 'retry-after': 'Wed, 31 Dec 2025 23:59:00 GMT' }), now), 0, 'a past date means now');
});

t.test('retry-after-ms wins over retry-after', async (t) => {
  t.equal(parseRetryAfter(headers({ 'retry-after-ms': '250', 'retry-after': '9' })), 250);
});

t.test('absent or unreadable Retry-After is undefined, and huge values are capped', async (t) => {
  t.equal(parseRetryAfter(headers({})), undefined);
  t.equal(parseRetryAfter(undefined), undefined);
  t.equal(parseRetryAfter(headers({ 'retry-after': 'soon' })), undefined);
  t.equal(parseRetryAfter(headers({ 'retry-after': '-3' })), undefined);
  t.equal(parseRetryAfter(headers({ 'retry-after': '99999999' })), MAX_RETRY_AFTER_MS);
});

t.test('HTTP statuses map to error kinds', async (t) => {
  const table: Array<[number, string, string]> = [
    [401, '', 'auth'],
    [403, '', 'auth'],
    [400, 'bad field', 'bad_request'],
    [400, "This model's maximum context length is 128000 tokens", 'context_overflow'],
    [413, '', 'context_overflow'],
    [404, 'model not found', 'bad_request'],
    [408, '', 'timeout'],
    [429, '', 'rate_limited'],
    [500, '', 'overloaded'],
    [502, '', 'overloaded'],
    [503, '', 'overloaded'],
    [529, '', 'overloaded'],
    [504, '', 'timeout'],
  ];
  for (const [status, message, kind] of table) t.equal(kindForStatus(status, message), kind, `${status} ${message}`);
});

t.test('only transient kinds are retryable', async (t) => {
  const retryable = ['rate_limited', 'overloaded', 'timeout', 'network'] as const;
  const final = ['auth', 'bad_request', 'context_overflow', 'aborted'] as const;
  for (const kind of retryable) t.equal(new ProviderError(kind, 'p', 'm').retryable, true, kind);
  for (const kind of final) t.equal(new ProviderError(kind, 'p', 'm').retryable, false, kind);
});

t.test('a ProviderError carries the catalogue code, provider and status', async (t) => {
  const err = new ProviderError('rate_limited', 'openai', 'slow down', { status: 429, retryAfterMs: 1200 });
  t.ok(err instanceof Error);
  t.equal(err.code, 'RATE_LIMITED');
  t.equal(err.provider, 'openai');
  t.equal(err.status, 429);
  t.equal(err.retryAfterMs, 1200);
  t.equal(err.message, 'openai: slow down');
  t.equal(new ProviderError('network', 'x', 'y').code, 'UNAVAILABLE');
});

t.test('a fetch failure whose cause is a connect timeout is timeout, others are network', async (t) => {
  const timedOut = new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'UND_ERR_CONNECT_TIMEOUT' }) });
  const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) });
  t.equal(genericError('p', timedOut, undefined).kind, 'timeout');
  t.equal(genericError('p', refused, undefined).kind, 'network');
});

t.test('any failure after the caller aborted is aborted', async (t) => {
  const controller = new AbortController();
  controller.abort();
  t.equal(genericError('p', new Error('socket hang up'), controller.signal).kind, 'aborted');
});
