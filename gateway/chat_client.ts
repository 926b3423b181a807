/**
 * `troupe chat "hello"`: a terminal client. It connects over WebSocket,
 * sends one message, and prints the reply as it streams in.
 */
import WebSocket from 'ws';

export interface ChatClientOptions {
  url: string;
  token: string;
  message: string;
  sessionKey?: string;
  agent?: string;
  timeoutMs?: number;
  write: (text: string) => void;
}

interface Frame {
  type: 'res' | 'event';
  id?: string;
  ok?: boolean;
  error?: { code: string; message: string };
  event?: string;
  payload?: { delta?: string; text?: string; runId?: string; usage?: unknown; stopReason?: string; error?: { code: string; message: string } };
}

export function runChat(o: ChatClientOptions): Promise<{ text: string; stopReason?: string }> {
  const wsUrl = o.url.replace(/^http/, 'ws').replace(/\/$/, '') + '/ws';
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${o.token}` } });
    let text = '';
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no reply within ${o.timeoutMs ?? 60_000} ms`));
    }, o.timeoutMs ?? 60_000);
    const done = (err?: Error, result?: { text: string; stopReason?: string }) => {
      clearTimeout(timer);
      ws.close();
      if (err) reject(err);
      else resolve(result as { text: string; stopReason?: string });
    };
    ws.on('error', (err) => done(err));
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'req', id: '1', method: 'connect', params: {} }));
      ws.send(JSON.stringify({
        type: 'req', id: '2', method: 'chat.send',
        params: { message: o.message, ...(o.sessionKey ? { sessionKey: o.sessionKey } : {}), ...(o.agent ? { agent: o.agent } : {}) },
      }));
    });
    ws.on('message', (data) => {
      let f: Frame;
      try {
        f = JSON.parse(String(data)) as Frame;
      } catch {
        return;
      }
      if (f.type === 'res' && f.ok === false) {
        done(new Error(`${f.error?.code}: ${f.error?.message}`));
      } else if (f.type === 'event' && f.event === 'chat.delta') {
        text += f.payload?.delta ?? '';
        o.write(f.payload?.delta ?? '');
      } else if (f.type === 'event' && f.event === 'chat.final') {
        o.write('\n');
        done(undefined, { text: f.payload?.text ?? text, stopReason: f.payload?.stopReason });
      } else if (f.type === 'event' && f.event === 'chat.error') {
        done(new Error(`${f.payload?.error?.code}: ${f.payload?.error?.message}`));
      }
    });
  });
}
