/**
 * The raw baseline: a worker that receives plain postMessage calls (one
 * message per post). It counts one-way messages and reports when it has seen
 * the expected number, and echoes round-trip pings.
 */
import { parentPort } from 'node:worker_threads';

if (parentPort === null) throw new Error('raw_worker must run in a worker');
const port = parentPort;
let seen = 0;
let expect = -1;
port.on('message', (m: { kind: 'expect'; n: number } | { kind: 'one'; i: number } | { kind: 'ping'; i: number }) => {
  switch (m.kind) {
    case 'expect':
      expect = m.n;
      seen = 0;
      break;
    case 'one':
      if (++seen === expect) port.postMessage({ kind: 'done', seen });
      break;
    case 'ping':
      port.postMessage(m);
      break;
  }
});
