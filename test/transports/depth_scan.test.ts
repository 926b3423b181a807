import t from 'tap';
import { pack } from 'msgpackr';
import { jsonDepthExceeds, scanMsgpack } from '../../transports/depth_scan.js';

const bytes = (s: string): Uint8Array => Buffer.from(s);

t.test('JSON depth counts nesting of arrays and objects', async (t) => {
  t.equal(jsonDepthExceeds(bytes('{"a":[{"b":[1]}]}'), 4), false);
  t.equal(jsonDepthExceeds(bytes('{"a":[{"b":[1]}]}'), 3), true);
});

t.test('JSON brackets inside strings, even after escaped quotes, do not count', async (t) => {
  t.equal(jsonDepthExceeds(bytes('{"a":"[[[[\\"[[[[{{{{"}'), 1), false);
});

t.test('a million open brackets are scanned without a stack overflow', async (t) => {
  t.equal(jsonDepthExceeds(Buffer.alloc(1_000_000, '['), 32), true);
});

t.test('well-formed msgpack within the depth limit is ok', async (t) => {
  t.equal(scanMsgpack(pack({ type: 'req', id: 1, params: { a: [1, 2.5, 'x', null, true, Buffer.from('bin'), -7, 2 ** 40] } }), 8), 'ok');
  t.equal(scanMsgpack(pack([[[]]]), 3), 'ok');
  t.equal(scanMsgpack(pack([[[]]]), 2), 'too_deep');
});

t.test('msgpack with trailing bytes, truncation or the reserved 0xc1 byte is malformed', async (t) => {
  const whole = pack({ a: 'hello' });
  t.equal(scanMsgpack(Buffer.concat([whole, Buffer.from([0x01])]), 8), 'malformed');
  t.equal(scanMsgpack(whole.subarray(0, whole.length - 1), 8), 'malformed');
  t.equal(scanMsgpack(Buffer.from([0xc1]), 8), 'malformed');
  t.equal(scanMsgpack(Buffer.from([]), 8), 'malformed');
});

t.test('msgpack length headers larger than the buffer are malformed', async (t) => {
  t.equal(scanMsgpack(Buffer.from([0xdf, 0x7f, 0xff, 0xff, 0xff]), 8), 'malformed');
  t.equal(scanMsgpack(Buffer.from([0xdb, 0x7f, 0xff, 0xff, 0xff, 0x41]), 8), 'malformed');
});
