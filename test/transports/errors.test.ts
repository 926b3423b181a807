import t from 'tap';
import { LinkFullError } from '../../runtime/index.js';
import { ERROR_CATALOGUE, ERROR_CODES, TroupeError, httpStatusOf, toWireError } from '../../transports/errors.js';

t.test('every catalogue code has a message, an HTTP status and a retryable flag', async (t) => {
  t.equal(ERROR_CODES.length, 11);
  for (const code of ERROR_CODES) {
    const e = ERROR_CATALOGUE[code];
    t.ok(e.message.length > 0 && e.httpStatus >= 400 && typeof e.retryable === 'boolean', code);
  }
  t.equal(httpStatusOf('RATE_LIMITED'), 429);
  t.equal(httpStatusOf('PAYLOAD_TOO_LARGE'), 413);
  t.equal(httpStatusOf('BUDGET_EXCEEDED'), 429);
  t.equal(ERROR_CATALOGUE.BUDGET_EXCEEDED.retryable, false, 'waiting for the reset, not retrying, is the answer');
});

t.test('a TroupeError keeps code, reason, field and retryAfterMs on the wire', async (t) => {
  const err = new TroupeError('RATE_LIMITED', 'slow down', { reason: 'chat_rate', retryAfterMs: 1200.4 });
  t.same(toWireError(err), { code: 'RATE_LIMITED', message: 'slow down', retryable: true, retryAfterMs: 1201, reason: 'chat_rate' });
});

t.test("the runtime's full-link refusal reaches the client as OVERLOADED with its retry hint", async (t) => {
  t.same(toWireError(new LinkFullError(2, 65_536)), {
    code: 'OVERLOADED', message: 'host 2 has 65536 messages waiting to be read; retry', retryable: true, retryAfterMs: 200, reason: 'link_full',
  });
  t.equal(httpStatusOf('OVERLOADED'), 503);
});

t.test('a plain object with a catalogue code from another layer is kept, retryable overridable', async (t) => {
  t.same(toWireError({ code: 'UNAVAILABLE', message: 'worker died', retryable: true }), {
    code: 'UNAVAILABLE', message: 'worker died', retryable: true,
  });
  t.equal(toWireError({ code: 'UNAVAILABLE', retryable: false }).retryable, false);
  t.equal(toWireError({ code: 'TIMEOUT' }).message, ERROR_CATALOGUE.TIMEOUT.message);
});

t.test('unknown errors become INTERNAL without leaking their message', async (t) => {
  for (const thrown of [new Error('ECONNREFUSED 10.0.0.3:5432'), { code: 'ENOENT', message: '/secret/path' }, 'boom', null, undefined, 42]) {
    t.same(toWireError(thrown), { code: 'INTERNAL', message: 'Internal error', retryable: false });
  }
});

t.test('long messages are cut so an error never echoes a payload back', async (t) => {
  t.equal(toWireError({ code: 'INVALID_REQUEST', message: 'x'.repeat(10_000) }).message.length, 500);
});
