// requestWhole: one call on undici's dispatcher answered whole (status, raw
// headers, body), bounded, abortable; what the SDKs' fetch and the thin
// adapters' JSON client are built on.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { Agent } from 'undici';
import { parseRawHeaders, requestWhole } from '../../transports/channels/whole_answer.js';

async function server(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ origin: string; close(): Promise<void> }> {
  const s: Server = createServer(handler);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    }),
  };
}

t.test('an answer arrives whole: status, headers (repeated ones as a list) and the body the server wrote', async (t) => {
  const srv = await server((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.setHeader('x-seen', `${req.method} ${req.url} ${req.headers['x-token']} ${body}`);
      res.writeHead(201, { 'content-type': 'application/json' });
      res.write('{"ok":');
      setTimeout(() => res.end('true}'), 5);
    });
  });
  const agent = new Agent();
  t.teardown(async () => {
    await agent.close();
    await srv.close();
  });
  const answer = await requestWhole(agent, {
    origin: srv.origin, path: '/m?x=1', method: 'POST', headers: { 'x-token': 'k' }, body: 'hi', timeoutMs: 5000,
  }, 1024);
  t.equal(answer.status, 201);
  t.same(JSON.parse(answer.body.toString()), { ok: true });
  const headers = parseRawHeaders(answer.rawHeaders);
  t.equal(headers['x-seen'], 'POST /m?x=1 k hi');
  t.same(headers['set-cookie'], ['a=1', 'b=2']);
});

t.test('an answer larger than the bound is refused, and the connection serves the next call', async (t) => {
  const srv = await server((req, res) => {
    res.end(req.url === '/big' ? 'x'.repeat(64 * 1024) : 'small');
  });
  const agent = new Agent();
  t.teardown(async () => {
    await agent.close();
    await srv.close();
  });
  await t.rejects(requestWhole(agent, { origin: srv.origin, path: '/big', method: 'GET', headers: {}, timeoutMs: 5000 }, 1024), /larger than 1024 bytes/);
  const next = await requestWhole(agent, { origin: srv.origin, path: '/', method: 'GET', headers: {}, timeoutMs: 5000 }, 1024);
  t.equal(next.body.toString(), 'small');
});

t.test('an aborted signal ends a call in flight, and one aborted before the call never sends it', async (t) => {
  let calls = 0;
  const srv = await server(() => {
    calls++; // never answers
  });
  const agent = new Agent();
  t.teardown(async () => {
    await agent.close();
    await srv.close();
  });
  const controller = new AbortController();
  const call = requestWhole(agent, { origin: srv.origin, path: '/', method: 'GET', headers: {}, timeoutMs: 60_000, signal: controller.signal }, 1024);
  setTimeout(() => controller.abort(new Error('channel stopped')), 20);
  await t.rejects(call, /channel stopped/);
  await t.rejects(requestWhole(agent, { origin: srv.origin, path: '/', method: 'GET', headers: {}, timeoutMs: 60_000, signal: AbortSignal.abort() }, 1024));
  t.equal(calls, 1, 'the pre-aborted call never reached the server');
});

t.test('no answer within the timeout is an error, not a hang', async (t) => {
  const srv = await server(() => undefined);
  const agent = new Agent();
  t.teardown(async () => {
    await agent.close();
    await srv.close();
  });
  await t.rejects(requestWhole(agent, { origin: srv.origin, path: '/', method: 'GET', headers: {}, timeoutMs: 50 }, 1024), /timeout/i);
});
