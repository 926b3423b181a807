import t from 'tap';
import type { HttpResponse } from 'uWebSockets.js';
import { HttpExchange } from '../../transports/http_exchange.js';
import type { GatewayMetrics } from '../../transports/metrics.js';

/** Records what reaches the socket: one entry per corked batch. */
function fakeResponse(writeOk = () => true) {
  const sends: string[][] = [];
  let batch: string[] | undefined;
  let abort: () => void = () => undefined;
  let writable: () => boolean = () => true;
  const out = (s: string) => (batch ?? sends[sends.push([]) - 1]).push(s);
  const res = {
    onAborted: (fn: () => void) => { abort = fn; },
    onWritable: (fn: () => boolean) => { writable = fn; },
    cork: (fn: () => void) => {
      batch = [];
      fn();
      sends.push(batch);
      batch = undefined;
    },
    writeStatus: (s: string) => out(`status ${s}`),
    writeHeader: (k: string, v: string) => out(`${k}: ${v}`),
    write: (chunk: string) => { out(chunk); return writeOk(); },
    end: (body: string) => out(`end ${body}`),
    close: () => out('close'),
  };
  return { res: res as unknown as HttpResponse, sends, abort: () => abort(), writable: () => writable() };
}

const metrics = {} as GatewayMetrics;
const tick = () => new Promise<void>((r) => setImmediate(r));

t.test('the head and the chunks written in one turn go out in one corked send', async (t) => {
  const f = fakeResponse();
  const ex = new HttpExchange(f.res, metrics);
  ex.startStream(200, { 'content-type': 'text/event-stream' });
  t.equal(ex.write('data: a\n\n'), true);
  ex.write('data: b\n\n');
  t.same(f.sends, [], 'nothing is sent before the turn ends');
  await tick();
  t.same(f.sends, [['status 200 OK', 'content-type: text/event-stream', 'data: a\n\ndata: b\n\n']]);
  ex.write('data: c\n\n');
  await tick();
  t.same(f.sends[1], ['data: c\n\n'], 'a later turn is a send of its own');
});

t.test('chunks still waiting ride with the end', async (t) => {
  const f = fakeResponse();
  const ex = new HttpExchange(f.res, metrics);
  ex.startStream(200, {});
  ex.write('data: last\n\n');
  ex.end(200, {}, 'data: [DONE]\n\n');
  await tick();
  t.same(f.sends, [['status 200 OK', 'end data: last\n\ndata: [DONE]\n\n']]);
  t.equal(ex.write('late'), false, 'an ended exchange takes no more writes');
});

t.test('nothing is sent after the client went away', async (t) => {
  const f = fakeResponse();
  const ex = new HttpExchange(f.res, metrics);
  ex.startStream(200, {});
  ex.write('data: a\n\n');
  f.abort();
  await tick();
  t.same(f.sends, []);
  t.equal(ex.open, false);
});

t.test('writes report backpressure once uWS buffered a flush, until it is writable again', async (t) => {
  let ok = false;
  const f = fakeResponse(() => ok);
  const ex = new HttpExchange(f.res, metrics);
  let relieved = 0;
  ex.onWritable(() => relieved++);
  ex.startStream(200, {});
  t.equal(ex.write('a'), true);
  await tick();
  t.equal(ex.write('b'), false, 'the flush before was buffered');
  ok = true;
  f.writable();
  t.equal(relieved, 1);
  t.equal(ex.write('c'), true);
});
