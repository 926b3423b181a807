/**
 * Reference servers for `troupe bench compare`, each run in its own process:
 *
 *   uws-echo   raw uWebSockets.js WebSocket echo on /ws
 *   ws-echo    plain `ws` WebSocket echo on /ws
 *   uws-bytes  raw uWebSockets.js answering POST /v1/chat/completions with
 *              fixed bytes (captured from Troupe, so both send the same)
 *
 * Usage: node reference_server.js <kind> [--bytes FILE --content-type T]
 * Prints {"port":N} on stdout once listening; runs until killed.
 */
import { readFileSync } from 'node:fs';
import uws from 'uWebSockets.js';
import { WebSocketServer } from 'ws';
import { parseArgv } from '../../gateway/argv.js';

const { values, positionals: [kind] } = parseArgv(process.argv.slice(2), { bytes: { type: 'string' }, 'content-type': { type: 'string' } }, { positionals: 1 });
const ready = (port: number) => process.stdout.write(JSON.stringify({ port }) + '\n');

function uwsListen(app: uws.TemplatedApp): void {
  app.listen('127.0.0.1', 0, (socket) => {
    if (!socket) {
      process.stderr.write('cannot listen\n');
      process.exit(1);
    }
    ready(uws.us_socket_local_port(socket));
  });
}

switch (kind) {
  case 'uws-echo':
    uwsListen(uws.App().ws('/ws', {
      maxPayloadLength: 1024 * 1024,
      idleTimeout: 120,
      message: (ws, msg, isBinary) => {
        ws.send(msg, isBinary);
      },
    }));
    break;
  case 'ws-echo': {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws', perMessageDeflate: false });
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    wss.on('listening', () => ready((wss.address() as { port: number }).port));
    break;
  }
  case 'uws-bytes': {
    const file = values.bytes;
    if (file === undefined) throw new Error('uws-bytes needs --bytes FILE');
    const bytes = readFileSync(file);
    const contentType = values['content-type'] ?? 'application/json';
    uwsListen(uws.App().post('/v1/chat/completions', (res) => {
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      // read the whole request body first, as a real endpoint must
      res.onData((_chunk, last) => {
        if (!last || aborted) return;
        res.cork(() => {
          res.writeStatus('200 OK').writeHeader('content-type', contentType).end(bytes);
        });
      });
    }));
    break;
  }
  default:
    process.stderr.write(`unknown reference server "${kind ?? ''}" (uws-echo, ws-echo, uws-bytes)\n`);
    process.exit(2);
}
